"""End to end: a real broker (live_server) and a real Tenant Security Proxy with OpenBao.

Provisioning goes through the broker's services exactly as browsers would (kms_configs.browser);
the proxy syncs over HTTP with signed requests, validates the config with a canary against
OpenBao, serves wrap/unwrap, reports heartbeats, and stops unwrapping within 5 s once the tenant
signs a policy that disables the config.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from kms_configs import browser
from kms_configs.models import ProxyHeartbeat
from tests.fixtures.proxy import API_KEY, RunningProxy, start_proxy
from tests.kms_configs.conftest import World, kms_draft

pytestmark = pytest.mark.services
PROPAGATION_BOUND_S = 5.0


def _call(proxy: RunningProxy, route: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 - loopback proxy started by this test
        f"{proxy.url}/api/1/{route}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"cmk {API_KEY}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _meta(tenant_id: str) -> dict[str, Any]:
    return {"tenantId": tenant_id, "iclFields": {"requestingId": "it"}, "customFields": {}}


@pytest.fixture
def synced(
    transactional_db: None, live_server: Any, world: World, openbao: Any, tmp_path: Path
) -> Iterator[tuple[RunningProxy, list[browser.ConfigDraft]]]:
    drafts = []
    for name, state in (("integration-a", "primary"), ("integration-b", "active")):
        openbao.create_transit_key(name)
        draft = kms_draft(state=state)
        draft.config |= {"address": openbao.address, "key_name": name, "token": openbao.token}
        drafts.append(draft)
    world.signer.publish(drafts, [world.cluster])
    env = browser.proxy_env(world.cluster_keys, world.cluster, world.vendor_root)
    proxy = start_proxy(
        SimpleNamespace(env=lambda: env),  # type: ignore[arg-type]
        SimpleNamespace(url=live_server.url),  # type: ignore[arg-type]
        tmp_path / "events.jsonl",
    )
    try:
        yield proxy, drafts
    finally:
        proxy.stop()


def test_a_provisioned_tenant_is_served_and_a_disabling_policy_reaches_the_proxy_in_5s(
    synced: tuple[RunningProxy, list[browser.ConfigDraft]], world: World
) -> None:
    proxy, (first, second) = synced
    status, wrapped = _call(proxy, "document/wrap", _meta("globex"))
    assert status == 200, wrapped
    unwrap = _meta("globex") | {"encryptedDocumentKey": wrapped["edek"]}
    status, unwrapped = _call(proxy, "document/unwrap", unwrap)
    assert (status, unwrapped["dek"]) == (200, wrapped["dek"])

    deadline = time.monotonic() + 10
    while not ProxyHeartbeat.objects.filter(tenant=world.tenant, status="loaded").exists():
        assert time.monotonic() < deadline, "no heartbeat reached the broker"
        time.sleep(0.1)
    beat = ProxyHeartbeat.objects.get(tenant=world.tenant)
    assert beat.policy_version == 1
    assert {c["config_id"] for c in beat.configs} == {first.config_id, second.config_id}

    # Issue 5 rule: the primary is disabled only once another config is primary.
    first.state, second.state = "disabled", "primary"
    signed_at = time.monotonic()
    world.signer.publish([first, second], [world.cluster], upload=[])
    while True:
        status, answer = _call(proxy, "document/unwrap", unwrap)
        if status != 200:
            break
        assert time.monotonic() - signed_at < PROPAGATION_BOUND_S, "policy did not propagate"
        time.sleep(0.05)
    assert answer["code"] == 202, answer
    assert time.monotonic() - signed_at < PROPAGATION_BOUND_S
    status, rewrapped = _call(proxy, "document/wrap", _meta("globex"))
    assert status == 200  # the new primary serves
    status, _ = _call(
        proxy, "document/unwrap", _meta("globex") | {"encryptedDocumentKey": rewrapped["edek"]}
    )
    assert status == 200
