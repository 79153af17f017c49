"""KmsClient: runs a synchronous provider in a bounded thread pool, with a per-call deadline,
one jittered retry when the KMS was unreachable, a circuit breaker per (tenant, endpoint) and a
bulkhead, so one tenant's slow or dead KMS cannot hold up other tenants (ACCEPTANCE PR-05..08).
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import TypeVar

from tenant_security_proxy.kms import metrics
from tenant_security_proxy.kms.base import KmsProvider
from tenant_security_proxy.kms.breaker import BreakerRegistry, CircuitBreaker
from tenant_security_proxy.kms.classify import (
    KMS_THROTTLED,
    KMS_UNREACHABLE,
    KmsError,
    unreachable,
)

T = TypeVar("T")

# Retry back-off: full jitter, capped (Builders' Library). One retry only, and only if the
# remaining budget still covers it, so a wrap never takes longer than its timeout (PR-05/06).
RETRY_DELAY_CAP_S = 0.2
MIN_ATTEMPT_BUDGET_S = 0.05

_default_lock = threading.Lock()
_default_executor: ThreadPoolExecutor | None = None
_default_breakers: BreakerRegistry | None = None


def default_executor() -> ThreadPoolExecutor:
    """The process-wide KMS thread pool (TSP_KMS_THREADS, default 64), created on first use."""
    global _default_executor
    with _default_lock:
        if _default_executor is None:
            workers = int(os.environ.get("TSP_KMS_THREADS", "64"))
            _default_executor = ThreadPoolExecutor(workers, thread_name_prefix="tsp-kms")
        return _default_executor


def default_breakers() -> BreakerRegistry:
    global _default_breakers
    with _default_lock:
        if _default_breakers is None:
            _default_breakers = BreakerRegistry()
            metrics.watch_breakers(_default_breakers)
        return _default_breakers


def shutdown_default_executor() -> None:
    """For process shutdown: stops the shared pool without waiting for stuck KMS calls."""
    global _default_executor
    with _default_lock:
        if _default_executor is not None:
            _default_executor.shutdown(wait=False, cancel_futures=True)
            _default_executor = None


def _prepare(provider: KmsProvider) -> bytes:
    provider.prepare()
    return b""


class KmsClient:
    """One tenant's KMS config, ready to wrap and unwrap data keys (see proxy_api.md)."""

    def __init__(
        self,
        provider: KmsProvider,
        *,
        tenant_id: str,
        config_id: int,
        timeout_s: float = 2.0,
        breaker: CircuitBreaker | None = None,
        executor: Executor | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.provider = provider
        self.tenant_id = tenant_id
        self.config_id = config_id
        self.timeout_s = timeout_s
        self._breaker = breaker or default_breakers().get(tenant_id, provider.endpoint)
        self._executor = executor or default_executor()
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._prepared = False
        self._in_flight: set[Future[bytes]] = set()

    def __repr__(self) -> str:
        # Never the config: it holds the tenant's credentials.
        return (
            f"KmsClient(provider={self.provider.provider!r}, tenant_id={self.tenant_id!r}, "
            f"config_id={self.config_id})"
        )

    @property
    def breaker_state(self) -> str:
        return self._breaker.state

    async def wrap(self, dek: bytes) -> bytes:
        return await self._call("wrap", self.provider.wrap, dek)

    async def unwrap(self, data: bytes) -> bytes:
        return await self._call("unwrap", self.provider.unwrap, data)

    async def prepare(self) -> None:
        """Builds the SDK client in the pool (done by the first call anyway); 207 if invalid."""
        if self._prepared:
            return
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._run, "prepare", _prepare, self.provider)
        self._prepared = True

    async def close(self) -> None:
        """Closes the SDK sessions once calls still running in the pool (e.g. past their
        deadline, waiting on a hung KMS) have ended, so no socket is pulled from under them."""
        pending = [asyncio.wrap_future(work) for work in list(self._in_flight)]
        if pending:
            await asyncio.wait(pending, timeout=self.timeout_s + 1.0)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self.provider.close)

    async def _call(self, operation: str, fn: Callable[[bytes], bytes], arg: bytes) -> bytes:
        name = self.provider.provider
        if not self._prepared:
            await self.prepare()  # SDK warm-up is not KMS latency: outside the deadline
        if not self._breaker.allow():
            metrics.FAST_FAILS.labels(name).inc()
            raise KmsError(
                KMS_UNREACHABLE,
                "KMS circuit breaker is open for this tenant after repeated failures; "
                "failing fast until the next probe",
                counts_for_breaker=False,
                from_kms=False,
            )
        started = self._clock()
        outcome = "ok"
        try:
            result = await self._attempts(operation, fn, arg, started)
        except KmsError as exc:
            outcome = str(exc.code)
            if exc.from_kms:
                self._breaker.record(failure=exc.counts_for_breaker)
            else:
                self._breaker.release()
            raise
        except BaseException:
            outcome = "cancelled"
            self._breaker.release()
            raise
        else:
            self._breaker.record(failure=False)
            return result
        finally:
            metrics.CALLS.labels(name, operation, outcome).inc()
            metrics.LATENCY.labels(name, operation).observe(self._clock() - started)

    async def _attempts(
        self, operation: str, fn: Callable[[bytes], bytes], arg: bytes, started: float
    ) -> bytes:
        deadline = started + self.timeout_s
        try:
            return await self._attempt(operation, fn, arg, deadline)
        except KmsError as exc:
            if not exc.retryable:
                raise
            delay = self._rng.uniform(0, RETRY_DELAY_CAP_S)
            if deadline - self._clock() - delay < MIN_ATTEMPT_BUDGET_S:
                raise
            await self._sleep(delay)
            return await self._attempt(operation, fn, arg, deadline)

    async def _attempt(
        self, operation: str, fn: Callable[[bytes], bytes], arg: bytes, deadline: float
    ) -> bytes:
        if not self._breaker.acquire_slot():
            raise KmsError(
                KMS_THROTTLED,
                "too many concurrent KMS calls for this tenant; the KMS is answering too slowly",
                counts_for_breaker=False,
                from_kms=False,
            )
        metrics.ATTEMPTS.labels(self.provider.provider, operation).inc()
        # The slot is freed when the *thread* finishes (not when we stop waiting), so calls
        # stuck in a slow KMS keep counting against this tenant's bulkhead.
        work = self._executor.submit(self._run, operation, fn, arg)
        self._in_flight.add(work)
        work.add_done_callback(self._finished)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(work), deadline - self._clock())
        except TimeoutError:
            raise unreachable(
                f"{self.provider.provider} did not answer {operation} within {self.timeout_s} s",
                retryable=False,
            ) from None

    def _finished(self, work: Future[bytes]) -> None:
        # In the worker thread (or at once, if cancelled before it started).
        self._in_flight.discard(work)
        self._breaker.release_slot()

    def _run(self, operation: str, fn: Callable[[T], bytes], arg: T) -> bytes:
        # In the worker thread: translate SDK exceptions at the boundary (STYLE.md).
        try:
            return fn(arg)
        except KmsError:
            raise
        except Exception as exc:
            raise self.provider.classify(exc, operation) from None
