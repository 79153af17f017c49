"""Key leasing (DESIGN.md §6.4): one KMS call for many wraps, any replica unwraps, rotation."""

from __future__ import annotations

import asyncio

import pytest

from tenant_security_proxy.edek import decode_edek_b64
from tenant_security_proxy.leasing import LeaseManager
from tests.fakes.broker import KmsSpec
from tests.proxy.conftest import run
from tests.proxy.localkms import local_config


def _synced(harness, **env):
    runtime = harness.runtime(**env)
    run(runtime.syncer.sync_once())
    return runtime


@pytest.fixture
def acme(harness):
    spec = KmsSpec(local_config())
    harness.spec = spec
    harness.broker.put_bundle(harness.world.bundle("acme", 1, [spec], leasing=True, max_age_s=3600))
    return spec


def test_many_wraps_cost_one_kms_call(harness, acme):
    runtime = _synced(harness)
    harness.kms.calls.clear()

    async def go():
        tenant = runtime.state.tenants["acme"]
        return await asyncio.gather(*(runtime.keys.wrap(tenant) for _ in range(500)))

    results = run(go())
    assert harness.kms.calls == {"wrap": 1}
    assert len({edek.leased_key_id for _, edek in results}) == 1
    assert len(harness.hub.named("LEASED_KEY_CREATED", "acme")) == 1


def test_another_replica_unwraps_every_leased_edek_after_one_kms_call(harness, acme):
    first = _synced(harness)

    async def wrap_all():
        tenant = first.state.tenants["acme"]
        return [await first.keys.wrap(tenant) for _ in range(200)]

    wrapped = run(wrap_all())
    replica = _synced(harness)
    harness.kms.calls.clear()

    async def unwrap_all():
        tenant = replica.state.tenants["acme"]
        from tenant_security_proxy.edek import encode_edek_b64

        return [(await replica.keys.unwrap(tenant, encode_edek_b64(e)))[0] for _, e in wrapped]

    assert run(unwrap_all()) == [dek for dek, _ in wrapped]
    assert harness.kms.calls == {"unwrap": 1}


def test_without_leasing_every_wrap_calls_the_kms(harness):
    harness.broker.put_bundle(harness.world.bundle("plain", 1, [KmsSpec(local_config())]))
    runtime = _synced(harness)
    harness.kms.calls.clear()

    async def go():
        tenant = runtime.state.tenants["plain"]
        return [await runtime.keys.wrap(tenant) for _ in range(20)]

    assert all(edek.leased_key_id == 0 for _, edek in run(go()))
    assert harness.kms.calls == {"wrap": 20}


def test_leased_keys_rotate_after_max_age(harness):
    harness.broker.put_bundle(
        harness.world.bundle("acme", 1, [KmsSpec(local_config())], leasing=True, max_age_s=0.2)
    )
    runtime = _synced(harness)

    async def go():
        tenant = runtime.state.tenants["acme"]
        _, first = await runtime.keys.wrap(tenant)
        _, same = await runtime.keys.wrap(tenant)
        await asyncio.sleep(0.3)
        _, later = await runtime.keys.wrap(tenant)
        # and an EDEK under the old leased key still unwraps
        from tenant_security_proxy.edek import encode_edek_b64

        await runtime.keys.unwrap(tenant, encode_edek_b64(first))
        return first, same, later

    first, same, later = run(go())
    assert first.leased_key_id == same.leased_key_id != later.leased_key_id


def test_turning_leasing_off_stops_leased_wraps(harness, acme):
    runtime = _synced(harness)

    async def go():
        _, before = await runtime.keys.wrap(runtime.state.tenants["acme"])
        harness.broker.put_bundle(harness.world.bundle("acme", 2, [acme], leasing=False))
        await runtime.syncer.sync_once()
        _, after = await runtime.keys.wrap(runtime.state.tenants["acme"])
        return before, after

    before, after = run(go())
    assert before.leased_key_id and not after.leased_key_id
    assert runtime.leases._current == {}


def test_disabling_the_config_drops_its_cached_leased_keys(harness, acme):
    runtime = _synced(harness)
    run(runtime.keys.wrap(runtime.state.tenants["acme"]))
    assert runtime.leases.cached_keys() == 1
    acme.state = "disabled"
    harness.broker.put_bundle(
        harness.world.bundle("acme", 2, [acme, KmsSpec(local_config())], leasing=True)
    )
    run(runtime.syncer.sync_once())
    assert runtime.leases.cached_keys() == 0


def test_leased_key_reuse_is_bounded(harness, acme, monkeypatch):
    runtime = _synced(harness)
    monkeypatch.setattr("tenant_security_proxy.leasing.MAX_USES_PER_LEASED_KEY", 3)

    async def go():
        tenant = runtime.state.tenants["acme"]
        return [(await runtime.keys.wrap(tenant))[1].leased_key_id for _ in range(4)]

    ids = run(go())
    assert ids[0] == ids[2] != ids[3]


def test_a_new_lease_manager_has_an_empty_cache():
    assert LeaseManager().cached_keys() == 0


def test_edeks_from_a_leased_wrap_decode_strictly(harness, acme):
    runtime = _synced(harness)
    _, edek = run(runtime.keys.wrap(runtime.state.tenants["acme"]))
    from tenant_security_proxy.edek import encode_edek_b64

    assert decode_edek_b64(encode_edek_b64(edek)) == edek


def test_the_non_awaiting_leased_wrap_gives_fresh_keys_that_unwrap_and_waits_for_no_kms():
    import asyncio
    from collections import Counter

    from tenant_security_proxy.edek import decode_edek_b64
    from tenant_security_proxy.keyops import KeyService
    from tenant_security_proxy.leasing import LeaseManager
    from tenant_security_proxy.state import ConfigRuntime, TenantRuntime
    from tests.proxy.localkms import LocalKms, local_config

    config = ConfigRuntime(4, "local-test", "primary", "d")
    config.kms = LocalKms(local_config(), "acme", Counter())
    config.canary = "ok"
    tenant = TenantRuntime("acme", 1, b"", {4: config}, leasing_enabled=True)
    keys = KeyService(LeaseManager())
    assert keys.wrap_b64_leased_now(tenant) is None  # no leased key yet: the caller awaits
    asyncio.run(keys.wrap_b64(tenant))
    answers = [keys.wrap_b64_leased_now(tenant) for _ in range(50)]
    assert all(a is not None for a in answers)
    deks = {a[0] for a in answers}
    ivs = {decode_edek_b64(a[1]).leased_key_iv for a in answers}
    assert len(deks) == len(ivs) == 50  # fresh DEK and IV every time
    for dek, edek_b64, config_id, leased in answers:
        assert (config_id, leased, len(dek)) == (4, True, 32)
        assert asyncio.run(keys.unwrap(tenant, edek_b64))[0] == dek
    unleased = TenantRuntime("b", 1, b"", {4: config}, leasing_enabled=False)
    assert keys.wrap_b64_leased_now(unleased) is None


def test_the_non_awaiting_unwrap_answers_and_fails_exactly_as_unwrap_does():
    import asyncio
    import base64
    from collections import Counter

    import pytest

    from tenant_security_proxy.edek import decode_edek_b64, encode_edek_b64
    from tenant_security_proxy.errors import ProxyError
    from tenant_security_proxy.keyops import KeyService
    from tenant_security_proxy.leasing import LeaseManager
    from tenant_security_proxy.state import ConfigRuntime, TenantRuntime
    from tests.proxy.localkms import LocalKms, local_config

    def tenant(name: str, leasing: bool = True) -> TenantRuntime:
        config = ConfigRuntime(4, "local-test", "primary", "d")
        config.kms, config.canary = LocalKms(local_config(), name, Counter()), "ok"
        return TenantRuntime(name, 1, b"", {4: config}, leasing_enabled=leasing)

    acme, keys = tenant("acme"), KeyService(LeaseManager())
    dek, edek_b64, _, _ = asyncio.run(keys.wrap_b64(acme))
    assert keys.unwrap_leased_now(acme, edek_b64) == asyncio.run(keys.unwrap(acme, edek_b64))
    assert keys.unwrap_leased_now(acme, edek_b64)[0] == dek
    # Not cached on another replica: the caller must await the KMS.
    assert KeyService(LeaseManager()).unwrap_leased_now(acme, edek_b64) is None
    # Not leased: always the awaiting path.
    plain = tenant("plain", leasing=False)
    plain_edek = asyncio.run(keys.wrap_b64(plain))[1]
    assert keys.unwrap_leased_now(plain, plain_edek) is None
    # Tampered data, another tenant's EDEK: the same error either way.
    parsed = decode_edek_b64(edek_b64)
    flipped = bytes([parsed.encrypted_dek_data[0] ^ 1]) + parsed.encrypted_dek_data[1:]
    tampered = encode_edek_b64(parsed._replace(encrypted_dek_data=flipped))
    for who, text in ((acme, tampered), (tenant("other"), edek_b64), (acme, "bm90IGFuIGVkZWs=")):
        with pytest.raises(ProxyError) as fast:
            keys.unwrap_leased_now(who, text)
        with pytest.raises(ProxyError) as slow:
            asyncio.run(keys.unwrap(who, text))
        assert (fast.value.code, fast.value.kms_config_id) == (
            slow.value.code,
            slow.value.kms_config_id,
        )
    assert acme.configs[4].errors == 2  # the tampered EDEK, once per path
    assert base64.b64decode(edek_b64)  # the untouched EDEK still opens
    assert keys.unwrap_leased_now(acme, edek_b64)[0] == dek
