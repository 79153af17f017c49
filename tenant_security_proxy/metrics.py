"""The proxy's one Prometheus registry; every module registers its `tsp_*` metrics here."""

from __future__ import annotations

import prometheus_client

REGISTRY = prometheus_client.CollectorRegistry()


def render() -> bytes:
    """Prometheus text exposition of REGISTRY (for the health port's /metrics)."""
    return prometheus_client.generate_latest(REGISTRY)


CONTENT_TYPE = prometheus_client.CONTENT_TYPE_LATEST
