"""Sync with the fake broker: snapshot, incremental, rejection, rollback, revocation, staleness."""

from __future__ import annotations

import asyncio
import time

import nacl.signing
import pytest

from opencmk_crypto import OrgKeys
from tenant_security_proxy.broker_client import BrokerClient, BrokerUnavailableError
from tenant_security_proxy.errors import ProxyError
from tenant_security_proxy.sync import SyncError
from tests.fakes.broker import KmsSpec
from tests.proxy.conftest import run
from tests.proxy.localkms import local_config


def _bundle(world, tenant_id, version=1, **kw):
    return world.bundle(tenant_id, version, [KmsSpec(local_config())], **kw)


def _digest_mismatch(world):
    bundle = _bundle(world, "acme", 2)
    config_id = bundle["sealed_configs"][0]["config_id"]
    other = world.bundle("acme", 2, [KmsSpec(local_config(), config_id=config_id)])
    bundle["sealed_configs"] = other["sealed_configs"]  # a different blob than the policy pins
    return bundle


def test_cold_start_without_broker_is_not_ready_and_refuses_requests(harness):
    harness.broker.unreachable = True
    runtime = harness.runtime()

    async def go():
        with pytest.raises(BrokerUnavailableError):
            await runtime.syncer.sync_once()
        with pytest.raises(ProxyError) as info:
            runtime.state.tenant("acme")
        return info.value

    error = run(go())
    assert error.http_status == 503
    assert runtime.state.unavailable_reason() == "configuration not loaded yet"


def test_snapshot_loads_every_tenant_and_emits_config_loaded(harness):
    for tenant in ("acme", "globex"):
        harness.broker.put_bundle(_bundle(harness.world, tenant))
    runtime = harness.runtime()

    async def go():
        await runtime.syncer.sync_once()
        await runtime.loader.wait_canaries()

    run(go())
    assert set(runtime.state.tenants) == {"acme", "globex"}
    assert runtime.state.unavailable_reason() is None
    assert {e["tenant_id"] for e in harness.hub.named("CONFIG_LOADED")} == {"acme", "globex"}
    # the canary wrapped and unwrapped once per config
    assert harness.kms.calls == {"wrap": 2, "unwrap": 2}


def test_snapshot_pages_through_many_tenants(harness):
    for i in range(7):
        harness.broker.put_bundle(_bundle(harness.world, f"t{i}"))
    runtime = harness.runtime(page_limit="2")
    run(runtime.syncer.sync_once())
    assert len(runtime.state.tenants) == 7
    snapshot_calls = [p for m, p, s in harness.broker.requests if "bundles" in p]
    assert len(snapshot_calls) == 4


def test_incremental_poll_applies_a_new_policy_and_answers_304_when_nothing_changed(harness):
    harness.broker.put_bundle(_bundle(harness.world, "acme"))
    runtime = harness.runtime()

    async def go():
        await runtime.syncer.sync_once()
        await runtime.syncer.sync_once()
        harness.broker.put_bundle(_bundle(harness.world, "acme", 2, leasing=True))
        await runtime.syncer.sync_once()

    run(go())
    assert harness.broker.requests[1][2] == 304
    assert "cursor=" in harness.broker.requests[2][1]
    assert runtime.state.tenants["acme"].version == 2
    assert runtime.state.tenants["acme"].leasing_enabled


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        (lambda w: _bundle(w, "acme", 2, signer=OrgKeys.generate()), "bad_signature"),
        (lambda w: _bundle(w, "acme", 2, clusters=["elsewhere"]), "cluster_not_allowed"),
        (lambda w: _bundle(w, "acme", 2, seal_tenant_id="globex"), "seal_error"),
        (lambda w: _bundle(w, "acme", 0), "policy_rollback"),
        (lambda w: _bundle(w, "acme", 2, policy_tenant_id="globex"), "tenant_mismatch"),
        (lambda w: _digest_mismatch(w), "digest_mismatch"),
    ],
    ids=["forged", "wrong-cluster", "swapped-config", "rolled-back", "swapped-tenant", "digest"],
)
def test_a_rejected_bundle_keeps_the_previous_good_state_and_emits_an_event(harness, forge, reason):
    harness.broker.put_bundle(_bundle(harness.world, "acme", 1))
    runtime = harness.runtime()

    async def go():
        await runtime.syncer.sync_once()
        before = runtime.state.tenants["acme"]
        harness.broker.put_bundle(forge(harness.world))
        await runtime.syncer.sync_once()
        return before

    before = run(go())
    assert runtime.state.tenants["acme"] is before
    assert runtime.state.rejections["acme"] == reason
    [event] = harness.hub.named("CONFIG_REJECTED", "acme")
    assert event["details"]["reason"] == reason


def test_a_tenant_deleted_and_re_added_cannot_be_rolled_back(harness):
    harness.broker.put_bundle(_bundle(harness.world, "acme", 5))
    runtime = harness.runtime()

    async def go():
        await runtime.syncer.sync_once()
        harness.broker.delete_tenant("acme")
        await runtime.syncer.sync_once()
        assert "acme" not in runtime.state.tenants
        harness.broker.put_bundle(_bundle(harness.world, "acme", 4))
        await runtime.syncer.sync_once()

    run(go())
    assert "acme" not in runtime.state.tenants
    assert runtime.state.rejections["acme"] == "policy_rollback"


def test_deleting_a_tenant_closes_its_kms_clients(harness):
    harness.broker.put_bundle(_bundle(harness.world, "acme"))
    runtime = harness.runtime()

    async def go():
        await runtime.syncer.sync_once()
        harness.broker.delete_tenant("acme")
        await runtime.syncer.sync_once()

    run(go())
    assert all(k.closed for k in harness.kms.built)


def test_revoking_the_cluster_drops_every_tenant_and_fails_closed(harness):
    harness.broker.put_bundle(_bundle(harness.world, "acme"))
    runtime = harness.runtime()

    async def go():
        await runtime.syncer.sync_once()
        harness.broker.revoke_cluster()
        with pytest.raises(SyncError):
            await runtime.syncer.sync_once()

    # The fake broker refuses a revoked cluster's signature, like the real one; serve the
    # revocation to the proxy anyway to test the proxy's own reaction.
    harness.broker.cluster_key = lambda cid, key=harness.world.cluster.signing_public: key
    run(go())
    assert runtime.state.tenants == {}
    assert runtime.state.unavailable_reason() == "proxy cluster was revoked"


def test_an_uncertified_cluster_applies_nothing(harness):
    harness.broker.put_bundle(_bundle(harness.world, "acme"))
    harness.broker.clusters = [harness.world.cluster_statement(keys=OrgKeys.generate())]
    harness.broker.cluster_key = lambda cid, key=harness.world.cluster.signing_public: key
    runtime = harness.runtime()
    with pytest.raises(SyncError):
        run(runtime.syncer.sync_once())
    assert runtime.state.tenants == {}


def test_it_serves_from_memory_while_the_broker_is_down_then_fails_closed_after_max_staleness(
    harness,
):
    harness.broker.put_bundle(_bundle(harness.world, "acme"))
    runtime = harness.runtime(TSP_MAX_STALENESS="1s")

    async def go():
        await runtime.syncer.sync_once()
        harness.broker.unreachable = True
        with pytest.raises(BrokerUnavailableError):
            await runtime.syncer.sync_once()
        runtime.state.tenant("acme")  # still served from memory
        await asyncio.sleep(1.1)
        with pytest.raises(ProxyError) as info:
            runtime.state.tenant("acme")
        return info.value

    assert run(go()).http_status == 503
    harness.broker.unreachable = False
    run(runtime.syncer.sync_once())
    assert runtime.state.tenant("acme")


def test_the_sync_loop_emits_config_stale_once_when_staleness_is_exceeded(harness):
    harness.broker.put_bundle(_bundle(harness.world, "acme"))
    runtime = harness.runtime(TSP_MAX_STALENESS="200ms", TSP_SYNC_INTERVAL="50ms")

    async def go():
        await runtime.syncer.sync_once()
        harness.broker.unreachable = True
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.syncer.run(stop))
        await asyncio.sleep(1.0)
        stop.set()
        await task

    run(go())
    assert len(harness.hub.named("CONFIG_STALE", "acme")) == 1


def test_a_failing_canary_makes_the_config_unusable_and_is_reported(harness):
    harness.broker.put_bundle(harness.world.bundle("acme", 1, [KmsSpec(local_config(fail=True))]))
    runtime = harness.runtime()

    async def go():
        await runtime.syncer.sync_once()
        # a request arriving while the canary still runs waits for it, then gets its verdict
        with pytest.raises(ProxyError) as info:
            await runtime.keys.wrap(runtime.state.tenants["acme"])
        return info.value

    assert run(go()).code == 208
    [config] = runtime.state.tenants["acme"].configs.values()
    assert config.canary == "failed"
    [payload] = runtime.syncer.heartbeat_payloads()
    [status] = payload["tenants"]
    assert status["configs"][0]["canary"] == "failed"
    assert status["configs"][0]["last_kms_error"] == "KMS_UNREACHABLE"


def test_heartbeats_reach_the_broker_with_per_config_status(harness):
    harness.broker.put_bundle(_bundle(harness.world, "acme"))
    runtime = harness.runtime()

    async def go():
        await runtime.syncer.sync_once()
        await runtime.keys.wrap(runtime.state.tenants["acme"])
        await runtime.syncer.send_heartbeat()

    run(go())
    [beat] = harness.broker.heartbeats
    assert beat["cluster_id"] == harness.world.cluster_id and beat["ready"] is True
    [tenant] = beat["tenants"]
    assert tenant["policy_version"] == 1 and tenant["configs"][0]["counters"]["wraps"] == 1
    assert "key" not in str(beat).replace("key_", "")  # no key material of any kind


def test_poll_intervals_are_jittered(harness):
    runtime = harness.runtime(TSP_SYNC_INTERVAL="1s")
    delays = {round(runtime.syncer._delay(0), 3) for _ in range(50)}
    assert len(delays) > 10 and min(delays) >= 0.8 and max(delays) <= 1.2


# ---- the broker side of request signing (docs/sync-protocol.md §1) -------------------------


def _client(harness, signing_key=None):
    key = signing_key or harness.world.cluster.signing_key
    return BrokerClient(harness.broker.url, cluster_id=harness.world.cluster_id, signing_key=key)


def test_broker_accepts_the_proxy_signature_and_refuses_a_foreign_key(harness):
    good = run(_client(harness).bundles(None, None, 10))
    bad = run(_client(harness, nacl.signing.SigningKey.generate()).bundles(None, None, 10))
    assert good.status == 200
    assert (bad.status, bad.json()["error"]) == (401, "bad_signature")


def test_broker_refuses_a_replayed_request(harness):
    client = _client(harness)
    headers = client._headers("GET", "/api/v1/proxy/bundles?limit=10", b"")
    client._headers = lambda *a: headers
    assert run(client.bundles(None, None, 10)).status == 200
    replay = run(client.bundles(None, None, 10))
    assert (replay.status, replay.json()["error"]) == (401, "replayed_request")


def test_broker_refuses_a_stale_timestamp(harness, monkeypatch):
    client = _client(harness)
    monkeypatch.setattr(time, "time", lambda real=time.time: real() - 120)
    headers = client._headers("GET", "/api/v1/proxy/bundles?limit=10", b"")
    monkeypatch.undo()
    client._headers = lambda *a: headers
    response = run(client.bundles(None, None, 10))
    assert (response.status, response.json()["error"]) == (401, "stale_signature")


def test_a_policy_change_during_a_running_canary_keeps_its_verdict(harness):
    spec = KmsSpec(local_config(delay_s=0.5))
    first = harness.world.bundle("acme", 1, [spec])
    harness.broker.put_bundle(first)
    runtime = harness.runtime()

    async def go():
        await runtime.syncer.sync_once()  # canary started, not awaited
        harness.broker.put_bundle(
            harness.world.bundle("acme", 2, [spec], leasing=True, reuse=first)
        )
        await runtime.syncer.sync_once()  # same sealed config: client and canary carried over
        config = runtime.state.tenants["acme"].configs[spec.config_id]
        assert config.canary == "pending"
        await config.ready_kms()
        await asyncio.sleep(0)
        return runtime.state.tenants["acme"].configs[spec.config_id]

    config = run(go())
    assert runtime.state.tenants["acme"].version == 2
    assert config.canary == "ok"
    assert len(harness.kms.built) == 1  # the KMS client was reused, not rebuilt


def test_the_sync_loop_survives_an_unexpected_error(harness):
    harness.broker.put_bundle(_bundle(harness.world, "acme"))
    runtime = harness.runtime(TSP_SYNC_INTERVAL="50ms")
    real = runtime.syncer.sync_once
    calls = []

    async def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a bug, not a broker outage")
        await real()

    runtime.syncer.sync_once = flaky

    async def go():
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.syncer.run(stop))
        for _ in range(100):
            if runtime.state.loaded:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await task

    run(go())
    assert runtime.state.loaded and len(calls) >= 2
