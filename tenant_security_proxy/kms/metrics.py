"""Prometheus metrics of KMS calls (names `tsp_kms_*`, in the proxy's one REGISTRY)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from tenant_security_proxy.kms.breaker import CLOSED, HALF_OPEN, OPEN, BreakerRegistry
from tenant_security_proxy.metrics import REGISTRY

CALLS = Counter(
    "tsp_kms_calls",
    "KMS calls by provider, operation and outcome (ok or the error code)",
    ["provider", "operation", "outcome"],
    registry=REGISTRY,
)
ATTEMPTS = Counter(
    "tsp_kms_attempts",
    "Requests actually sent to a KMS (calls plus retries)",
    ["provider", "operation"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "tsp_kms_call_seconds",
    "Latency of KMS calls including the retry",
    ["provider", "operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0),
    registry=REGISTRY,
)
FAST_FAILS = Counter(
    "tsp_kms_breaker_fast_fails",
    "Calls refused without contacting the KMS because the circuit breaker was open",
    ["provider"],
    registry=REGISTRY,
)

_STATE_VALUE = {CLOSED: 0.0, HALF_OPEN: 1.0, OPEN: 2.0}


class _BreakerCollector(Collector):
    """Reads breaker states at scrape time, so the hot path never touches a gauge."""

    def __init__(self, breakers: BreakerRegistry) -> None:
        self._breakers = breakers

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "tsp_kms_breaker_state",
            "Circuit breaker per tenant and KMS endpoint: 0 closed, 1 half-open, 2 open",
            labels=["tenant", "endpoint"],
        )
        for (tenant, endpoint), state in sorted(self._breakers.states().items()):
            family.add_metric([tenant, endpoint], _STATE_VALUE[state])
        yield family


def watch_breakers(breakers: BreakerRegistry) -> None:
    REGISTRY.register(_BreakerCollector(breakers))
