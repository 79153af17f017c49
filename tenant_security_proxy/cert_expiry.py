"""Seconds until the certificates the proxy depends on expire (ACCEPTANCE PR-13, O-06).

What in the proxy can expire: the CA bundle it pins for the broker (`TSP_BROKER_CA_FILE`) and the
broker's own TLS certificate. The proxy's credentials cannot: the cluster signing and encryption
keys are raw Ed25519/X25519 keys with no validity period, the API keys are static secrets, and
the API and health ports serve plain HTTP (TLS, if any, ends in front of the proxy, where its
certificate is monitored). So this gauge covers the pinned CA bundle: the earliest `notAfter`
among its certificates, read at every scrape (a rotated file shows at once). The broker's server
certificate is the broker's to watch; once the pinned CA has expired, no broker certificate
verifies, which is what the alert must come before.

    tsp_cert_expiry_seconds{cert="broker_ca"}   # negative once expired

Alert 30 days ahead (O-06): `tsp_cert_expiry_seconds < 30 * 86400`. An unreadable or certificate-
less file gives -1 (alert at once: the proxy cannot verify the broker with it either).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from cryptography import x509
from prometheus_client.core import GaugeMetricFamily, Metric

from tenant_security_proxy.metrics import REGISTRY

UNREADABLE = -1.0


def seconds_until_expiry(pem: bytes, now: float) -> float:
    """Seconds from `now` until the first certificate in `pem` expires (negative if past)."""
    certificates = x509.load_pem_x509_certificates(pem)
    earliest = min(c.not_valid_after_utc.timestamp() for c in certificates)
    return earliest - now


class CertExpiry:
    """Prometheus collector over named PEM files (`watch`); one per process (`CERTS`)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._files: dict[str, Path] = {}
        self._clock = clock

    def watch(self, name: str, path: str | None) -> None:
        """Report `path`'s expiry as cert=`name` (None: stop reporting it)."""
        if path is None:
            self._files.pop(name, None)
        else:
            self._files[name] = Path(path)

    def values(self) -> dict[str, float]:
        out = {}
        for name, path in self._files.items():
            try:
                out[name] = seconds_until_expiry(path.read_bytes(), self._clock())
            except (OSError, ValueError):
                out[name] = UNREADABLE
        return out

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "tsp_cert_expiry_seconds",
            "Seconds until the earliest certificate of a pinned PEM file expires",
            labels=["cert"],
        )
        for name, seconds in self.values().items():
            gauge.add_metric([name], seconds)
        yield gauge


CERTS = CertExpiry()
REGISTRY.register(CERTS)  # type: ignore[arg-type]
