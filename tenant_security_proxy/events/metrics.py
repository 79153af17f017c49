"""Prometheus metrics of the event pipeline, on the proxy's one registry (ACCEPTANCE PR-13, L-13).

Counters change once per batch or per drop; the queue depth is read at scrape time by a
collector, so `emit` on the request path touches no metric at all.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from tenant_security_proxy.metrics import REGISTRY

if TYPE_CHECKING:
    from tenant_security_proxy.events.hub import EventHub

DELIVERED = Counter(
    "tsp_events_delivered",
    "Security events accepted by the tenant's logging sink.",
    ["tenant", "sink"],
    registry=REGISTRY,
)
FAILED = Counter(
    "tsp_events_failed",
    "Security events the sink refused for good (e.g. HTTP 4xx); not retried.",
    ["tenant", "sink"],
    registry=REGISTRY,
)
DROPPED = Counter(
    "tsp_events_dropped",
    "Security events dropped because the tenant's queue was full or the proxy stopped.",
    ["tenant"],
    registry=REGISTRY,
)
SEND_ERRORS = Counter(
    "tsp_event_send_errors",
    "Failed delivery attempts (each is retried with back-off unless final).",
    ["tenant", "sink"],
    registry=REGISTRY,
)
SEND_SECONDS = Histogram(
    "tsp_event_send_seconds",
    "Time to deliver one batch to a sink (successful attempts).",
    ["sink"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)


class _QueuedCollector(Collector):
    """`tsp_events_queued{tenant}` summed over the live hubs (normally exactly one)."""

    def __init__(self) -> None:
        self.hubs: weakref.WeakSet[EventHub] = weakref.WeakSet()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "tsp_events_queued", "Security events waiting for delivery.", labels=["tenant"]
        )
        totals: dict[str, int] = {}
        for hub in list(self.hubs):
            for tenant_id, depth in hub.queue_depths().items():
                totals[tenant_id] = totals.get(tenant_id, 0) + depth
        for tenant_id, depth in sorted(totals.items()):
            family.add_metric([tenant_id], depth)
        yield family

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("tsp_events_queued", "Security events waiting for delivery.")


QUEUED = _QueuedCollector()
REGISTRY.register(QUEUED)
