"""Circuit breaker per (tenant, KMS endpoint) — ACCEPTANCE PR-07, Akka-style semantics.

closed → open after 5 consecutive availability failures, or when ≥ 50 % of ≥ 20 calls in the
last 10 s failed; open → fast-fail every call until 30 s have passed; then half_open → exactly
one probe call goes through; its success closes the breaker, its failure re-opens it for another
30 s. Only availability failures (KmsError.counts_for_breaker) count; any answer from the KMS,
even a refusal, proves the endpoint is up.

State is shared by every KmsClient of the same (tenant, endpoint) via a registry, so that a
config rebuilt after a policy change does not reset a tripped breaker. Calls come from the event
loop and the state is also read from metrics, hence a plain lock (held for microseconds).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerSettings:
    consecutive_failures: int = 5
    open_s: float = 30.0
    window_s: float = 10.0
    window_min_calls: int = 20
    window_failure_ratio: float = 0.5
    max_in_flight: int = 32  # bulkhead: one slow KMS cannot take the whole thread pool


class CircuitBreaker:
    def __init__(self, settings: BreakerSettings, clock: Callable[[], float]) -> None:
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._consecutive = 0
        self._opened_at = 0.0
        self._probe_in_flight = False
        self._window: deque[tuple[float, bool]] = deque()
        self._in_flight = 0

    @property
    def state(self) -> str:
        with self._lock:
            if self._state == OPEN and self._clock() - self._opened_at >= self._settings.open_s:
                return HALF_OPEN
            return self._state

    def allow(self) -> bool:
        """Whether a call may go to the KMS now; a True in half_open makes it the probe."""
        with self._lock:
            if self._state == CLOSED:
                return True
            if self._state == OPEN:
                if self._clock() - self._opened_at < self._settings.open_s:
                    return False
                self._state = HALF_OPEN
            if self._probe_in_flight:
                return False
            self._probe_in_flight = True
            return True

    def acquire_slot(self) -> bool:
        with self._lock:
            if self._in_flight >= self._settings.max_in_flight:
                return False
            self._in_flight += 1
            return True

    def release_slot(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def release(self) -> None:
        """A call ended without news about the KMS (cancelled, refused by the bulkhead): it
        neither counts nor closes; a half-open probe slot is handed to the next caller."""
        with self._lock:
            if self._state == HALF_OPEN:
                self._probe_in_flight = False

    def record(self, *, failure: bool) -> None:
        with self._lock:
            now = self._clock()
            if self._state == HALF_OPEN:
                self._probe_in_flight = False
                if failure:
                    self._trip(now)
                else:
                    self._reset()
                return
            if self._state == OPEN:
                return  # a call admitted before the breaker opened; its outcome is stale
            self._remember(now, failure)
            self._consecutive = self._consecutive + 1 if failure else 0
            if failure and (
                self._consecutive >= self._settings.consecutive_failures or self._window_tripped()
            ):
                self._trip(now)

    def _remember(self, now: float, failure: bool) -> None:
        self._window.append((now, failure))
        horizon = now - self._settings.window_s
        while self._window and self._window[0][0] < horizon:
            self._window.popleft()

    def _window_tripped(self) -> bool:
        calls = len(self._window)
        if calls < self._settings.window_min_calls:
            return False
        failures = sum(1 for _, failed in self._window if failed)
        return failures / calls >= self._settings.window_failure_ratio

    def _trip(self, now: float) -> None:
        self._state = OPEN
        self._opened_at = now
        self._consecutive = 0
        self._window.clear()

    def _reset(self) -> None:
        self._state = CLOSED
        self._consecutive = 0
        self._window.clear()


class BreakerRegistry:
    """One CircuitBreaker per (tenant id, KMS endpoint)."""

    def __init__(
        self,
        settings: BreakerSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings or BreakerSettings()
        self.clock = clock
        self._lock = threading.Lock()
        self._breakers: dict[tuple[str, str], CircuitBreaker] = {}

    def get(self, tenant_id: str, endpoint: str) -> CircuitBreaker:
        key = (tenant_id, endpoint)
        with self._lock:
            breaker = self._breakers.get(key)
            if breaker is None:
                breaker = self._breakers[key] = CircuitBreaker(self.settings, self.clock)
            return breaker

    def states(self) -> dict[tuple[str, str], str]:
        with self._lock:
            items = list(self._breakers.items())
        return {key: breaker.state for key, breaker in items}

    def forget_tenant(self, tenant_id: str) -> None:
        with self._lock:
            for key in [k for k in self._breakers if k[0] == tenant_id]:
                del self._breakers[key]
