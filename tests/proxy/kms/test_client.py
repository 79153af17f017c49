"""KmsClient reliability against real endpoints: one jittered retry only when unreachable,
deadlines, the circuit breaker per (tenant, endpoint), the bulkhead (ACCEPTANCE PR-05..PR-08)."""

from __future__ import annotations

import asyncio
import gc
import time
import warnings

import pytest

from tenant_security_proxy.kms import BreakerRegistry, BreakerSettings, KmsError, build_kms
from tenant_security_proxy.kms.breaker import CircuitBreaker
from tenant_security_proxy.metrics import REGISTRY
from tests.proxy.kms.conftest import ManualClock, run
from tests.proxy.kms.netfaults import black_hole, closed_port, reset_peer

pytestmark = pytest.mark.services

DEK = bytes(range(32))
PROVIDERS = ["vault", "aws", "gcp", "azure"]


@pytest.fixture
def pointed_at(request, make_kms):
    """make(provider, url, **kw): a KmsClient whose KMS traffic goes to `url`."""

    def make(provider: str, url: str, **kwargs):
        config = dict(request.getfixturevalue(f"{provider}_config"))
        if provider == "vault":
            config["address"] = url
        elif provider == "azure":
            config["vault_url"] = url.replace("http://", "https://")
            kwargs.setdefault("ca_file", request.getfixturevalue("azure_ca"))
        else:
            config["endpoint"] = url
        return make_kms(config, **kwargs)

    return make


def collect_dropped_tls_sockets() -> None:
    """azure-core/urllib3 sometimes drop (rather than close) a TLS socket whose handshake met
    a connection reset; collect it now, so its ResourceWarning (an error under
    filterwarnings=error) is not raised later inside an unrelated test. Our own clients are
    closed by the make_kms fixture."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


class SleepRecorder:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(delay)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_it_retries_a_reset_connection_exactly_once_with_jitter(pointed_at, provider):
    sleep = SleepRecorder()
    with reset_peer() as kms_endpoint:
        kms = pointed_at(provider, f"http://127.0.0.1:{kms_endpoint.port}", sleep=sleep)
        with pytest.raises(KmsError) as caught:
            run(kms.wrap(DEK))
        assert caught.value.code == 208
        assert kms_endpoint.connections == 2  # one attempt + one retry, SDK retries off
        run(kms.close())
    collect_dropped_tls_sockets()
    assert len(sleep.delays) == 1
    assert 0 <= sleep.delays[0] <= 0.2


def test_it_reports_a_closed_port_as_unreachable_after_one_retry(make_kms, vault_config):
    labels = {"provider": "vault-transit", "operation": "wrap"}
    before = REGISTRY.get_sample_value("tsp_kms_attempts_total", labels) or 0
    kms = make_kms({**vault_config, "address": f"http://127.0.0.1:{closed_port()}"})
    with pytest.raises(KmsError) as caught:
        run(kms.wrap(DEK))
    assert caught.value.code == 208
    assert REGISTRY.get_sample_value("tsp_kms_attempts_total", labels) - before == 2


@pytest.mark.parametrize("provider", PROVIDERS)
def test_it_answers_within_the_timeout_when_the_kms_hangs(pointed_at, provider):
    with black_hole() as kms_endpoint:
        kms = pointed_at(provider, f"http://127.0.0.1:{kms_endpoint.port}", timeout_s=0.5)
        run(kms.prepare())  # SDK warm-up is outside the deadline by design

        async def timed_wrap():
            started = time.monotonic()
            try:
                await kms.wrap(DEK)
            except KmsError as exc:
                return exc, time.monotonic() - started
            raise AssertionError("a hung KMS cannot answer")

        error, elapsed = run(timed_wrap())
        assert error.code == 208
        assert elapsed < 0.5 + 0.5  # PR-05: bounded by the per-call timeout (+ loaded-CI slack)
        assert kms_endpoint.connections == 1  # a timeout is not retried: the budget is spent
        run(kms.close())
    collect_dropped_tls_sockets()


def test_a_hanging_kms_does_not_hold_up_another_tenant(make_kms, vault_config):
    async def scenario(slow, fast):
        hung = [asyncio.ensure_future(slow.wrap(DEK)) for _ in range(8)]
        await asyncio.sleep(0.05)
        for _ in range(10):
            assert await fast.unwrap(await fast.wrap(DEK)) == DEK
        still_waiting = sum(not task.done() for task in hung)
        return still_waiting, await asyncio.gather(*hung, return_exceptions=True)

    with black_hole() as kms_endpoint:
        slow = make_kms(
            {**vault_config, "address": f"http://127.0.0.1:{kms_endpoint.port}"},
            tenant_id="tenant-slow",
            timeout_s=3.0,
        )
        fast = make_kms(vault_config, tenant_id="tenant-fast")
        still_waiting, results = run(scenario(slow, fast))
    # Tenant B's 20 calls all finished while tenant A's calls were still stuck in its KMS.
    assert still_waiting == 8
    assert all(isinstance(r, KmsError) and r.code == 208 for r in results)


def test_the_breaker_opens_after_five_failures_fast_fails_then_probes_and_closes(
    make_kms, gcp_config, gcp
):
    clock = ManualClock()
    registry = BreakerRegistry(clock=clock)
    kms = make_kms(gcp_config, breakers=registry, clock=clock)
    gcp.fail_next(503, "The service is currently unavailable.", count=5)
    for _ in range(5):
        with pytest.raises(KmsError) as caught:
            run(kms.wrap(DEK))
        assert caught.value.code == 208
    assert kms.breaker_state == "open"

    sent = len(gcp.requests)

    async def fast_fails():
        timings, errors = [], []
        for _ in range(20):
            started = time.perf_counter()
            try:
                await kms.wrap(DEK)
            except KmsError as exc:
                errors.append(exc)
            timings.append(time.perf_counter() - started)
        return sorted(timings)[10], errors

    median, errors = run(fast_fails())
    assert median < 0.005  # PR-07: fast-fail < 5 ms while open
    assert len(errors) == 20
    assert all(e.code == 208 and "circuit breaker" in e.message for e in errors)
    assert len(gcp.requests) == sent  # nothing reached the KMS

    clock.advance(29.9)
    assert kms.breaker_state == "open"
    clock.advance(0.1)
    assert kms.breaker_state == "half_open"
    assert run(kms.unwrap(run(kms.wrap(DEK)))) == DEK  # the probe succeeds
    assert kms.breaker_state == "closed"


def test_a_failed_probe_reopens_the_breaker_for_another_period(make_kms, gcp_config, gcp):
    clock = ManualClock()
    kms = make_kms(gcp_config, breakers=BreakerRegistry(clock=clock), clock=clock)
    gcp.fail_next(503, "unavailable", count=6)
    for _ in range(5):
        with pytest.raises(KmsError):
            run(kms.wrap(DEK))
    clock.advance(30)
    with pytest.raises(KmsError):
        run(kms.wrap(DEK))  # the probe meets the sixth failure
    assert kms.breaker_state == "open"
    clock.advance(30)
    assert run(kms.wrap(DEK))
    assert kms.breaker_state == "closed"


def test_the_breaker_of_one_tenant_does_not_affect_another(make_kms, gcp_config, gcp):
    clock = ManualClock()
    registry = BreakerRegistry(clock=clock)
    tenant_a = make_kms(gcp_config, tenant_id="tenant-a", breakers=registry, clock=clock)
    tenant_b = make_kms(gcp_config, tenant_id="tenant-b", breakers=registry, clock=clock)
    gcp.fail_next(503, "unavailable", count=5)
    for _ in range(5):
        with pytest.raises(KmsError):
            run(tenant_a.wrap(DEK))
    assert tenant_a.breaker_state == "open"
    assert tenant_b.breaker_state == "closed"
    assert run(tenant_b.unwrap(run(tenant_b.wrap(DEK)))) == DEK


def test_a_rebuilt_config_keeps_the_tripped_breaker_of_its_tenant_and_endpoint(
    make_kms, gcp_config, gcp
):
    clock = ManualClock()
    registry = BreakerRegistry(clock=clock)
    gcp.fail_next(503, "unavailable", count=5)
    for _ in range(5):
        with pytest.raises(KmsError):
            run(make_kms(gcp_config, breakers=registry, clock=clock).wrap(DEK))
    assert make_kms(gcp_config, breakers=registry, clock=clock).breaker_state == "open"


def test_refusals_from_a_healthy_kms_do_not_trip_the_breaker(make_kms, vault_config):
    kms = make_kms(vault_config)
    for _ in range(8):  # a caller sending garbage EDEKs must not cut the tenant off
        with pytest.raises(KmsError) as caught:
            run(kms.unwrap(b"vault:v1:Z2FyYmFnZQ=="))
        assert caught.value.code == 205
    assert kms.breaker_state == "closed"


def test_throttling_counts_towards_the_breaker_but_is_never_retried(make_kms, gcp_config, gcp):
    kms = make_kms(gcp_config)
    gcp.fail_next(429, "Quota exceeded", count=5)
    for _ in range(5):
        with pytest.raises(KmsError) as caught:
            run(kms.wrap(DEK))
        assert caught.value.code == 209
    assert len(gcp.requests) == 5  # PR-08: attempts == calls, no storm
    assert kms.breaker_state == "open"


def test_the_bulkhead_refuses_calls_beyond_the_in_flight_limit(make_kms, gcp_config, gcp):
    registry = BreakerRegistry(BreakerSettings(max_in_flight=2))
    kms = make_kms(gcp_config, breakers=registry)
    run(kms.wrap(DEK))  # build the client first
    gcp.delay_s = 0.4

    async def three():
        return await asyncio.gather(*(kms.wrap(DEK) for _ in range(3)), return_exceptions=True)

    results = run(three())
    refused = [r for r in results if isinstance(r, KmsError)]
    assert len(refused) == 1
    assert refused[0].code == 209
    assert "concurrent" in refused[0].message
    assert kms.breaker_state == "closed"  # our own refusal says nothing about the KMS


def test_it_exports_calls_and_breaker_state_as_metrics(vault_config):
    kms = build_kms(vault_config, tenant_id="tenant-metrics", config_id=1)
    run(kms.unwrap(run(kms.wrap(DEK))))
    assert REGISTRY.get_sample_value(
        "tsp_kms_calls_total",
        {"provider": "vault-transit", "operation": "unwrap", "outcome": "ok"},
    )
    state = REGISTRY.get_sample_value(
        "tsp_kms_breaker_state", {"tenant": "tenant-metrics", "endpoint": vault_config["address"]}
    )
    assert state == 0.0


def test_it_keeps_a_retry_inside_the_timeout_budget(make_kms, vault_config):
    with reset_peer() as kms_endpoint:
        address = f"http://127.0.0.1:{kms_endpoint.port}"
        kms = make_kms({**vault_config, "address": address}, timeout_s=0.04)
        with pytest.raises(KmsError) as caught:
            run(kms.wrap(DEK))
    assert caught.value.code == 208
    assert kms_endpoint.connections == 1  # too little budget left for a second attempt


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ({}, "'provider'"),
        ({"provider": "ibm-hpcs"}, "unknown KMS provider"),
        ({"provider": ""}, "'provider'"),
    ],
)
def test_build_kms_rejects_configs_it_cannot_use(config, needle):
    with pytest.raises(KmsError) as caught:
        build_kms(config, tenant_id="t", config_id=1)
    assert caught.value.code == 207
    assert needle in caught.value.message


def test_build_kms_requires_a_tenant_id_to_bind(vault_config):
    with pytest.raises(KmsError) as caught:
        build_kms(vault_config, tenant_id="", config_id=1)
    assert caught.value.code == 207


def test_kms_error_codes_are_limited_to_the_kms_range():
    assert KmsError(209, "x").http_status == 429
    with pytest.raises(ValueError):
        KmsError(203, "not a KMS code")


class TestCircuitBreakerRules:
    def test_it_opens_when_half_of_twenty_calls_in_ten_seconds_fail(self):
        clock = ManualClock()
        breaker = CircuitBreaker(BreakerSettings(), clock)
        for i in range(19):
            breaker.record(failure=i % 2 == 0)  # never 5 in a row
            clock.advance(0.1)
        assert breaker.state == "closed"
        breaker.record(failure=True)  # 20 calls, 11 failures
        assert breaker.state == "open"

    def test_it_forgets_failures_older_than_the_window(self):
        clock = ManualClock()
        breaker = CircuitBreaker(BreakerSettings(), clock)
        for i in range(19):
            breaker.record(failure=i % 2 == 0)
        clock.advance(11)
        breaker.record(failure=True)
        assert breaker.state == "closed"

    def test_it_lets_exactly_one_probe_through_when_half_open(self):
        clock = ManualClock()
        breaker = CircuitBreaker(BreakerSettings(), clock)
        for _ in range(5):
            breaker.record(failure=True)
        assert not breaker.allow()
        clock.advance(30)
        assert breaker.allow()
        assert not breaker.allow()  # a second caller fast-fails while the probe runs
        breaker.record(failure=False)
        assert breaker.state == "closed"
        assert breaker.allow()

    def test_a_call_that_ends_without_news_frees_the_probe_but_does_not_close(self):
        clock = ManualClock()
        breaker = CircuitBreaker(BreakerSettings(), clock)
        for _ in range(5):
            breaker.record(failure=True)
        clock.advance(30)
        assert breaker.allow()
        breaker.release()  # e.g. the probe was cancelled by its caller
        assert breaker.state == "half_open"
        assert breaker.allow()  # the next caller becomes the probe

    def test_a_cancelled_call_does_not_reset_the_failure_count(self):
        breaker = CircuitBreaker(BreakerSettings(), ManualClock())
        for _ in range(4):
            breaker.record(failure=True)
        breaker.release()
        breaker.record(failure=True)
        assert breaker.state == "open"
