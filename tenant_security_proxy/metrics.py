"""The proxy's one Prometheus registry; every module registers its `tsp_*` metrics here."""

from __future__ import annotations

import bisect
from collections.abc import Iterator

import prometheus_client
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

REGISTRY = prometheus_client.CollectorRegistry()


def render() -> bytes:
    """Prometheus text exposition of REGISTRY (for the health port's /metrics)."""
    return prometheus_client.generate_latest(REGISTRY)


CONTENT_TYPE = prometheus_client.CONTENT_TYPE_LATEST


class RequestStats:
    """Per-request counters and latency histogram, cheap enough for the hot path.

    prometheus_client's Histogram.observe takes a lock and scans every bucket on each call
    (several µs); here a request costs one bisect and two integer additions, and the
    Prometheus families are built only when /metrics is scraped. Single event-loop use only.
    """

    BUCKETS: tuple[float, ...] = (
        0.0005,
        0.001,
        0.0025,
        0.005,
        0.01,
        0.025,
        0.05,
        0.1,
        0.25,
        0.5,
        1,
        2.5,
        5,
    )

    def __init__(self, registry: prometheus_client.CollectorRegistry = REGISTRY) -> None:
        self.counts: dict[tuple[str, str, str], int] = {}
        self.latency: dict[str, list[float]] = {}  # route -> bucket counts + [sum, count]
        registry.register(self)  # type: ignore[arg-type]

    def record(self, tenant: str, route: str, code: str, seconds: float) -> None:
        key = (tenant, route, code)
        self.counts[key] = self.counts.get(key, 0) + 1
        row = self.latency.get(route)
        if row is None:
            row = self.latency[route] = [0.0] * (len(self.BUCKETS) + 3)
        row[bisect.bisect_left(self.BUCKETS, seconds)] += 1
        row[-2] += seconds
        row[-1] += 1

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "tsp_requests",
            "API requests by tenant, route and result code",
            labels=["tenant", "route", "code"],
        )
        for (tenant, route, code), count in list(self.counts.items()):
            requests.add_metric([tenant, route, code], count)
        yield requests
        latency = HistogramMetricFamily(
            "tsp_request_seconds", "API request latency by route", labels=["route"]
        )
        for route, row in list(self.latency.items()):
            cumulative = 0.0
            buckets: list[tuple[str, float]] = []
            for bound, in_bucket in zip((*self.BUCKETS, float("inf")), row, strict=False):
                cumulative += in_bucket
                buckets.append((str(bound) if bound != float("inf") else "+Inf", cumulative))
            latency.add_metric([route], buckets, sum_value=row[-2])
        yield latency
