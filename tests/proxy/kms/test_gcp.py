"""gcp-kms through google-cloud-kms's REST transport against tests/fakes/gcp_kms.py.

What the fake stands in for: Cloud KMS's REST front end and Google's authentication. The
production path is not bypassed: the provider builds real `service_account.Credentials` from
the config and the client library signs its own JWTs, which the fake verifies against the
service account's public key. Only the API endpoint (the config's `endpoint`) differs.
"""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tenant_security_proxy.kms import KmsError
from tests.proxy.kms.conftest import run

pytestmark = pytest.mark.services

DEK = bytes(range(32))


def _key_name(config: dict) -> str:
    return (
        f"projects/{config['project_id']}/locations/{config['location_id']}/keyRings/"
        f"{config['key_ring_id']}/cryptoKeys/{config['crypto_key_id']}"
    )


def test_it_round_trips_a_dek_through_cloud_kms(make_kms, gcp_config, gcp):
    kms = make_kms(gcp_config)
    # The fake answers verifiedPlaintextCrc32c only when the request carried plaintextCrc32c,
    # and the provider refuses answers without it: this round trip also covers that exchange.
    data = run(kms.wrap(DEK))
    assert run(kms.unwrap(data)) == DEK
    paths = [path.split("?")[0] for _, path in gcp.requests]
    assert paths == [f"/v1/{_key_name(gcp_config)}:encrypt", f"/v1/{_key_name(gcp_config)}:decrypt"]
    run(kms.close())


def test_it_binds_the_tenant_id_as_additional_authenticated_data(make_kms, gcp_config):
    data = run(make_kms(gcp_config, tenant_id="tenant-a").wrap(DEK))
    with pytest.raises(KmsError) as caught:
        run(make_kms(gcp_config, tenant_id="tenant-b").unwrap(data))
    assert caught.value.code == 205  # Cloud KMS: 400 decryption failed (P-07)


def test_it_accepts_the_service_account_json_as_downloaded(make_kms, gcp_config):
    account = {k: gcp_config.pop(k) for k in ("client_email", "private_key", "token_uri")}
    account["type"] = "service_account"
    kms = make_kms({**gcp_config, "service_account": json.dumps(account)})
    assert run(kms.unwrap(run(kms.wrap(DEK)))) == DEK


def test_it_detects_a_corrupted_ciphertext_checksum_on_wrap(make_kms, gcp_config, gcp):
    gcp.corrupt_checksums = True
    with pytest.raises(KmsError) as caught:
        run(make_kms(gcp_config).wrap(DEK))
    assert caught.value.code == 204
    assert "checksum" in caught.value.message


def test_it_detects_a_corrupted_plaintext_checksum_on_unwrap(make_kms, gcp_config, gcp):
    kms = make_kms(gcp_config)
    data = run(kms.wrap(DEK))
    gcp.corrupt_checksums = True
    with pytest.raises(KmsError) as caught:
        run(kms.unwrap(data))
    assert caught.value.code == 205


def test_it_reports_an_unknown_service_account_key_as_authorization_failed(
    make_kms, gcp_config, gcp
):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = stranger.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    config = {**gcp_config, "private_key": pem}  # a key the fake never registered
    with pytest.raises(KmsError) as caught:
        run(make_kms(config).wrap(DEK))
    assert caught.value.code == 206
    assert "PRIVATE KEY" not in caught.value.message
    assert len(gcp.requests) == 1  # google-auth's refresh-and-resend on 401 is switched off


def test_it_reports_a_missing_permission_as_config_invalid(make_kms, gcp_config, gcp):
    gcp.deny(gcp_config["client_email"], _key_name(gcp_config))
    with pytest.raises(KmsError) as caught:
        run(make_kms(gcp_config).wrap(DEK))
    assert caught.value.code == 207
    assert "useToEncrypt" in caught.value.message


def test_it_reports_a_missing_key_as_config_invalid(make_kms, gcp_config):
    with pytest.raises(KmsError) as caught:
        run(make_kms({**gcp_config, "crypto_key_id": "missing"}).wrap(DEK))
    assert caught.value.code == 207


def test_it_reports_quota_exhaustion_as_throttled_without_retrying(make_kms, gcp_config, gcp):
    gcp.fail_next(429, "Quota exceeded for quota metric 'Cryptographic requests'")
    with pytest.raises(KmsError) as caught:
        run(make_kms(gcp_config).wrap(DEK))
    assert caught.value.code == 209
    assert len(gcp.requests) == 1


def test_it_reports_garbage_ciphertext_as_unwrap_failed(make_kms, gcp_config):
    with pytest.raises(KmsError) as caught:
        run(make_kms(gcp_config).unwrap(b"\x0agarbage-garbage-garbage-garbage-garbage"))
    assert caught.value.code == 205


def test_it_reports_an_invalid_private_key_as_config_invalid(make_kms, gcp_config):
    config = {**gcp_config, "private_key": "-----BEGIN PRIVATE KEY-----\nnope\n"}
    with pytest.raises(KmsError) as caught:
        run(make_kms(config).wrap(DEK))
    assert caught.value.code == 207
    assert "nope" not in caught.value.message


def test_it_unwraps_after_the_key_is_rotated(make_kms, gcp_config, gcp):
    kms = make_kms(gcp_config)
    old = run(kms.wrap(DEK))
    gcp.rotate(_key_name(gcp_config))
    assert run(kms.unwrap(run(kms.wrap(DEK)))) == DEK
    assert run(kms.unwrap(old)) == DEK


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"project_id": None}, "project_id"),
        ({"location_id": ""}, "location_id"),
        ({"key_ring_id": None}, "key_ring_id"),
        ({"crypto_key_id": None}, "crypto_key_id"),
        ({"client_email": None}, "client_email"),
        ({"private_key": ""}, "private_key"),
        ({"crypto_key_id": "a/../b"}, "crypto_key_id"),
    ],
)
def test_it_rejects_a_config_missing_a_field_naming_the_field(make_kms, change, field):
    config = {
        "provider": "gcp-kms",
        "project_id": "p",
        "location_id": "global",
        "key_ring_id": "r",
        "crypto_key_id": "k",
        "client_email": "proxy@p.iam.gserviceaccount.com",
        "private_key": "-----BEGIN PRIVATE KEY-----secret-material",
    }
    with pytest.raises(KmsError) as caught:
        make_kms({**config, **change})
    assert caught.value.code == 207
    assert f"'{field}'" in caught.value.message
    assert "secret-material" not in caught.value.message
