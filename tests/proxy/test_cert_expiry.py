"""tsp_cert_expiry_seconds: seconds until the pinned broker CA bundle expires (PR-13, O-06)."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tenant_security_proxy import metrics
from tenant_security_proxy.cert_expiry import UNREADABLE, CertExpiry, seconds_until_expiry

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def _pem(days_left: float) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=30))
        .not_valid_after(NOW + dt.timedelta(days=days_left))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def test_the_gauge_is_the_time_left_on_the_earliest_certificate_of_the_bundle(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(_pem(400) + _pem(29) + _pem(90))
    certs = CertExpiry(clock=NOW.timestamp)
    certs.watch("broker_ca", str(bundle))
    assert certs.values() == {"broker_ca": 29 * 86400.0}
    assert certs.values()["broker_ca"] < 30 * 86400  # what the O-06 alert rule fires on


def test_an_expired_certificate_counts_below_zero():
    assert seconds_until_expiry(_pem(-2), NOW.timestamp()) == -2 * 86400.0


def test_a_rotated_file_is_seen_at_the_next_scrape(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(_pem(10))
    certs = CertExpiry(clock=NOW.timestamp)
    certs.watch("broker_ca", str(bundle))
    assert certs.values()["broker_ca"] == 10 * 86400.0
    bundle.write_bytes(_pem(700))
    assert certs.values()["broker_ca"] == 700 * 86400.0


def test_a_missing_or_certificate_less_file_reads_as_already_expired(tmp_path):
    certs = CertExpiry(clock=NOW.timestamp)
    certs.watch("gone", str(tmp_path / "absent.pem"))
    (tmp_path / "junk.pem").write_text("not a certificate")
    certs.watch("junk", str(tmp_path / "junk.pem"))
    assert certs.values() == {"gone": UNREADABLE, "junk": UNREADABLE}


def test_the_runtime_exports_the_broker_ca_only_when_one_is_configured(harness, tmp_path):
    from tenant_security_proxy.cert_expiry import CERTS

    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(_pem(365))
    try:
        harness.runtime(TSP_BROKER_CA_FILE=str(bundle))
        text = metrics.render().decode()
        [line] = [x for x in text.splitlines() if x.startswith("tsp_cert_expiry_seconds{")]
        assert line.startswith('tsp_cert_expiry_seconds{cert="broker_ca"} ')
        assert 300 * 86400 < float(line.split()[-1]) <= 366 * 86400
        harness.runtime()
        assert "tsp_cert_expiry_seconds{" not in metrics.render().decode()
    finally:
        CERTS.watch("broker_ca", None)
