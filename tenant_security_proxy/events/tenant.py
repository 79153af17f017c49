"""One tenant's delivery state, and small helpers the hub uses on it."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import deque
from collections.abc import Mapping
from typing import Any

from tenant_security_proxy.events import model
from tenant_security_proxy.events.sinks import Sink

logger = logging.getLogger("tenant_security_proxy.events")


class TenantQueue:
    """One tenant's queue, sink and counters; touched only from the event loop's thread."""

    def __init__(self, tenant_id: str, sink: Sink, digest: str | None) -> None:
        self.tenant_id = tenant_id
        self.sink = sink
        self.digest = digest
        self.queue: deque[tuple[float, Mapping[str, Any]]] = deque()
        self.inflight: list[dict[str, Any]] = []
        self.task: asyncio.Task[None] | None = None
        self.wake = asyncio.Event()
        self.delivered = self.failed = self.dropped = self.send_errors = 0
        self.unreported_drops = 0
        self.first_drop_at: float | None = None
        self.last_error: str | None = None
        self.last_delivery_at: float | None = None
        self.remove_deadline: float | None = None
        self.dropped_metric: Any = None
        self.metric_children: dict[tuple[str, ...], Any] = {}  # see hub._child
        self.retired: list[Sink] = []  # replaced sinks, closed once no batch is in flight

    def depth(self) -> int:
        return len(self.queue) + len(self.inflight)


def stats_of(state: TenantQueue) -> dict[str, Any]:
    return {
        "sink": state.sink.provider,
        "draining": state.remove_deadline is not None,
        "queued": state.depth(),
        "delivered": state.delivered,
        "failed": state.failed,
        "dropped": state.dropped,
        "send_errors": state.send_errors,
        "last_error": state.last_error,
        "last_delivery_at": (
            model.rfc3339_ms(state.last_delivery_at) if state.last_delivery_at else None
        ),
    }


def config_digest(config: Mapping[str, Any] | None) -> str | None:
    if config is None:
        return None
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def close_quietly(sink: Sink) -> None:
    try:
        await asyncio.wait_for(sink.aclose(), 5.0)
    except Exception as exc:  # closing is best effort; never let it mask shutdown
        logger.warning("events: closing %s sink failed (%s)", sink.provider, type(exc).__name__)
