"""EventHub: per-tenant bounded queues, batching, retry, drop-and-count (DESIGN.md §6.5, L-13).

Delivery policy. `emit` never blocks and never fails the caller: wrap and unwrap go on while a
tenant's logging sink is down, as with IronCore's TSP (which drops an event it cannot hand to the
Logdriver within 25 ms). Each tenant buffers up to `max_queue_per_tenant` events; past that new
events are dropped, counted in `tsp_events_dropped_total{tenant}`, logged as a warning, and
reported to the tenant itself by an `EVENTS_DROPPED` event as soon as its queue has room. Failing
closed instead would hand whoever can break a tenant's SIEM endpoint an outage of that tenant's
application; the tenant keeps the stronger control of disabling its KMS config.

Concurrency. One asyncio task per tenant that has events pending (started by `emit`, ended when
the queue is empty): a slow or dead sink then delays only its own tenant, batches of one tenant
stay strictly in order (the in-flight batch is retried, capped jittered exponential back-off,
until it is delivered or refused for good), and idle tenants cost no task at all. A shared worker
pool would need its own per-tenant fairness and ordering bookkeeping to get the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from tenant_security_proxy.events import metrics, model, names
from tenant_security_proxy.events.sinks import Sink, SinkDeliveryError, StdoutSink, build_sink
from tenant_security_proxy.events.tenant import TenantQueue, close_quietly, config_digest, stats_of

logger = logging.getLogger("tenant_security_proxy.events")
Enricher = Callable[[str, float, Mapping[str, Any], str], "dict[str, Any] | None"]
_rng = random.SystemRandom()


class EventHub:
    def __init__(
        self,
        max_queue_per_tenant: int = 10_000,
        batch_size: int = 100,
        flush_interval_s: float = 1.0,
        stdout: TextIO | None = None,
        *,
        retry_base_s: float = 0.25,
        retry_cap_s: float = 30.0,
        stop_timeout_s: float = 5.0,
        remove_grace_s: float = 30.0,
    ) -> None:
        if max_queue_per_tenant < 1 or batch_size < 1 or flush_interval_s <= 0:
            raise ValueError("queue size, batch size and flush interval must be positive")
        self._max = max_queue_per_tenant
        self._batch = batch_size
        self._interval = flush_interval_s
        self._stdout = stdout if stdout is not None else sys.stdout
        self._stdout_sink = StdoutSink(self._stdout)
        self._retry_base, self._retry_cap = retry_base_s, retry_cap_s
        self._stop_timeout, self._remove_grace = stop_timeout_s, remove_grace_s
        self._tenants: dict[str, TenantQueue] = {}
        self._draining: set[TenantQueue] = set()
        # Removed tenants still draining, by id: events emitted right after `remove_tenant`
        # (e.g. the "config removed" event itself) still reach the tenant's own sink.
        self._draining_by_id: dict[str, TenantQueue] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._retired: list[Sink] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running = self._stopping = False
        self._stop_event = asyncio.Event()
        # Optional per-event finisher run by the delivery task, never on the request path (the
        # proxy sets events.kms_fields.KmsEnricher): `(tenant_id, enqueued_at, event, event_id)`
        # -> the finished event, or None to let `model.finalize` finish it.
        self.enricher: Enricher | None = None
        metrics.QUEUED.hubs.add(self)

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._running, self._stopping = True, False
        for state in [*self._tenants.values(), *self._draining]:
            if (state.depth() or state.remove_deadline is not None) and state.task is None:
                self._spawn(state)

    async def stop(self, timeout_s: float | None = None) -> None:
        """Deliver what can be delivered within the deadline; count the rest as dropped."""
        if not self._running:
            await self._close_sinks()
            return
        self._stopping = True
        self._stop_event.set()
        states = [*self._tenants.values(), *self._draining]
        for state in states:
            if state.depth() and state.task is None:
                self._spawn(state)
            state.wake.set()
        tasks = [s.task for s in states if s.task is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout_s or self._stop_timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for state in states:
            if state.depth():
                logger.warning(
                    "events: %d events for tenant %s undelivered at shutdown",
                    state.depth(),
                    state.tenant_id,
                )
                self._drop(state, state.depth(), quiet=True)
                state.queue.clear()
                state.inflight = []
        self._running = False
        await self._close_sinks()

    async def _close_sinks(self) -> None:
        states = [*self._tenants.values(), *self._draining]
        sinks = {id(s.sink): s.sink for s in states}
        sinks.update({id(r): r for s in states for r in s.retired})
        sinks.update({id(s): s for s in self._retired})
        self._retired.clear()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        for sink in sinks.values():
            if sink is not self._stdout_sink:
                await close_quietly(sink)

    # ----------------------------------------------------------------- tenants

    def configure_tenant(self, tenant_id: str, logging_config: Mapping[str, Any] | None) -> None:
        """Route a tenant's events to the sink its config names (None: stdout JSON lines).

        Raises SinkConfigError (the tenant keeps its previous sink) for an unusable config.
        Calling again with an identical config keeps the current sink and its connections.
        """
        digest = config_digest(logging_config)
        state = self._tenants.get(tenant_id) or self._revive(tenant_id)
        if state is not None and state.digest == digest:
            return
        sink = (
            self._stdout_sink
            if logging_config is None
            else build_sink(logging_config, stdout=self._stdout)
        )
        if state is None:
            self._tenants[tenant_id] = TenantQueue(tenant_id, sink, digest)
            return
        old, state.sink, state.digest = state.sink, sink, digest
        if state.task is None:
            self._retire(old)
        else:
            # A batch may be in flight on the old sink: its task closes it after that attempt,
            # so the batch is neither cut off nor sent twice.
            state.retired.append(old)

    def remove_tenant(self, tenant_id: str) -> None:
        """Forget a tenant; what it has queued is still delivered for `remove_grace_s`."""
        state = self._tenants.pop(tenant_id, None)
        if state is None:
            return
        state.remove_deadline = time.monotonic() + self._remove_grace
        self._draining.add(state)
        self._draining_by_id[tenant_id] = state
        # The task ends (and closes the sink) once the queue is empty; until it has run, events
        # emitted for this tenant still join this queue.
        if state.task is None and self._running and not self._stopping:
            self._spawn(state)
        state.wake.set()

    def _revive(self, tenant_id: str) -> TenantQueue | None:
        """A tenant configured again while its removal drains keeps its queue and order."""
        state = self._draining_by_id.pop(tenant_id, None)
        if state is not None:
            self._draining.discard(state)
            state.remove_deadline = None
            self._tenants[tenant_id] = state
        return state

    # ----------------------------------------------------------------- hot path

    def emit(self, tenant_id: str, event: Mapping[str, Any]) -> None:
        """Queue one event; never blocks, never raises. Call from the event loop's thread."""
        try:
            state = self._tenants.get(tenant_id) or self._draining_by_id.get(tenant_id)
            if state is None:
                # Unknown tenant: its events go to stdout, like IronCore's Logdriver.
                state = self._tenants[tenant_id] = TenantQueue(tenant_id, self._stdout_sink, None)
            if len(state.queue) + len(state.inflight) >= self._max:
                self._drop(state, 1)
                return
            state.queue.append((time.time(), event))
            if state.task is None:
                if self._running and not self._stopping:
                    self._spawn(state)
            elif len(state.queue) >= self._batch:
                state.wake.set()
        except Exception:  # the request path must not fail because of its audit trail
            logger.exception("events: emit failed for tenant %s", tenant_id)

    def emit_threadsafe(self, tenant_id: str, event: Mapping[str, Any]) -> None:
        """`emit` from a thread other than the event loop's (e.g. a KMS worker thread)."""
        if self._loop is None:
            logger.warning("events: emit_threadsafe before start; event for %s lost", tenant_id)
            return
        self._loop.call_soon_threadsafe(self.emit, tenant_id, event)

    # ----------------------------------------------------------------- delivery

    def _spawn(self, state: TenantQueue) -> None:
        assert self._loop is not None
        state.task = self._loop.create_task(self._run(state), name=f"events:{state.tenant_id}")

    async def _run(self, state: TenantQueue) -> None:
        try:
            while True:
                if not state.inflight:
                    if not state.queue:
                        return
                    await self._wait_for_batch(state)
                    self._take(state)
                await self._deliver(state)
                self._release_retired(state)
                self._report_drops(state)
        finally:
            state.task = None
            self._release_retired(state)
            if state.remove_deadline is not None and not state.depth():
                self._draining.discard(state)
                if self._draining_by_id.get(state.tenant_id) is state:
                    del self._draining_by_id[state.tenant_id]
                self._retire(state.sink)

    async def _wait_for_batch(self, state: TenantQueue) -> None:
        if self._stopping or state.remove_deadline is not None:
            return
        state.wake.clear()
        if len(state.queue) >= self._batch:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(state.wake.wait(), self._interval)

    def _take(self, state: TenantQueue) -> None:
        count = min(self._batch, len(state.queue))
        batch: list[dict[str, Any]] = []
        # All the enrichment (ids, timestamps, scrubbing) happens here, once per batch, not on
        # the request path; one urandom call yields the whole batch's ids.
        ids = model.event_ids(count)
        tenant_id, queue, finalize = state.tenant_id, state.queue, model.finalize
        enrich = self.enricher
        for event_id in ids:
            at, event = queue.popleft()
            # Finished once, so a retried batch carries the same event ids (receivers dedupe).
            try:
                done = None if enrich is None else enrich(tenant_id, at, event, event_id)
                batch.append(done if done is not None else finalize(tenant_id, at, event, event_id))
            except Exception:  # a malformed event must not stop the tenant's other events
                self._count_failed(state, state.sink, 1)
        state.inflight = batch

    async def _deliver(self, state: TenantQueue) -> None:
        attempt = 0
        while state.inflight:
            sink = state.sink
            started = time.perf_counter()
            try:
                rejected = await sink.send(state.inflight)
            except SinkDeliveryError as exc:
                self._note_error(state, sink, exc.reason)
                if not exc.retriable:
                    self._count_failed(state, sink, len(state.inflight))
                    state.inflight = []
                    return
            except Exception as exc:  # a sink bug must not end this tenant's delivery
                self._note_error(state, sink, f"internal error ({type(exc).__name__})")
            else:
                _child(state, "send_seconds", metrics.SEND_SECONDS, sink.provider).observe(
                    time.perf_counter() - started
                )
                self._count_delivered(state, sink, len(state.inflight) - rejected, rejected)
                state.inflight = []
                return
            if self._past_remove_deadline(state):
                return
            attempt += 1
            await self._backoff(attempt)

    async def _backoff(self, attempt: int) -> None:
        ceiling = min(self._retry_cap, self._retry_base * 2 ** min(attempt - 1, 30))
        delay = ceiling / 2 + _rng.uniform(0, ceiling / 2)  # "equal jitter"
        if self._stopping:
            await asyncio.sleep(min(delay, self._retry_base))
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_event.wait(), delay)

    def _past_remove_deadline(self, state: TenantQueue) -> bool:
        if state.remove_deadline is None or time.monotonic() < state.remove_deadline:
            return False
        logger.warning(
            "events: tenant %s removed; %d undeliverable events dropped",
            state.tenant_id,
            state.depth(),
        )
        self._drop(state, state.depth(), quiet=True)
        state.queue.clear()
        state.inflight = []
        return True

    # ----------------------------------------------------------------- accounting

    def _drop(self, state: TenantQueue, count: int, *, quiet: bool = False) -> None:
        state.dropped += count
        state.unreported_drops += count
        if state.dropped_metric is None:  # cached: drops come in floods
            state.dropped_metric = metrics.DROPPED.labels(state.tenant_id)
        state.dropped_metric.inc(count)
        if state.first_drop_at is None:
            state.first_drop_at = time.time()
            if not quiet:
                logger.warning(
                    "events: queue for tenant %s is full (%d); dropping new events",
                    state.tenant_id,
                    self._max,
                )

    def _report_drops(self, state: TenantQueue) -> None:
        """Tell the tenant's own sink how many of its events were lost, once there is room."""
        if not state.unreported_drops or state.depth() >= self._max:
            return
        details = {
            "count": state.unreported_drops,
            "first_dropped_at": model.rfc3339_ms(state.first_drop_at),
            "last_dropped_at": model.rfc3339_ms(),
            "reason": "queue_full",
            "queue_limit": self._max,
        }
        event = model.proxy_event(
            tenant_id=state.tenant_id, event=names.EVENTS_DROPPED, details=details
        )
        state.queue.append((time.time(), event))
        state.unreported_drops, state.first_drop_at = 0, None

    def _note_error(self, state: TenantQueue, sink: Sink, reason: str) -> None:
        state.send_errors += 1
        if state.last_error != reason:
            logger.warning(
                "events: delivery to %s for tenant %s failed: %s",
                sink.provider,
                state.tenant_id,
                reason,
            )
        state.last_error = reason
        _child(state, "send_errors", metrics.SEND_ERRORS, state.tenant_id, sink.provider).inc()

    def _count_delivered(
        self, state: TenantQueue, sink: Sink, delivered: int, rejected: int
    ) -> None:
        state.delivered += delivered
        state.last_delivery_at, state.last_error = time.time(), None
        _child(state, "delivered", metrics.DELIVERED, state.tenant_id, sink.provider).inc(delivered)
        if rejected:
            self._count_failed(state, sink, rejected)

    def _count_failed(self, state: TenantQueue, sink: Sink, count: int) -> None:
        state.failed += count
        _child(state, "failed", metrics.FAILED, state.tenant_id, sink.provider).inc(count)
        logger.warning(
            "events: %s refused %d events of tenant %s for good",
            sink.provider,
            count,
            state.tenant_id,
        )

    def _release_retired(self, state: TenantQueue) -> None:
        retired, state.retired = state.retired, []
        for sink in retired:
            self._retire(sink)

    def _retire(self, sink: Sink) -> None:
        if sink is self._stdout_sink:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._retired.append(sink)
            return
        task = loop.create_task(close_quietly(sink))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    # ----------------------------------------------------------------- introspection

    def queue_depths(self) -> dict[str, int]:
        depths = {tid: s.depth() for tid, s in self._draining_by_id.items()}
        depths.update({tid: s.depth() for tid, s in self._tenants.items()})
        return depths

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per tenant: sink, queued, delivered, failed, dropped, send_errors, last_error, ...

        Removed tenants still delivering their last events appear with `draining` true.
        """
        out = {tid: stats_of(s) for tid, s in self._draining_by_id.items()}
        out.update({tid: stats_of(s) for tid, s in self._tenants.items()})
        return out


def _child(state: TenantQueue, name: str, family: Any, *labels: str) -> Any:
    """A metric's labelled child, cached on the tenant's state (the label lookup takes a lock
    and hashes the labels; a tenant's sink provider changes rarely)."""
    key = (name, *labels)
    child = state.metric_children.get(key)
    if child is None:
        child = state.metric_children[key] = family.labels(*labels)
    return child
