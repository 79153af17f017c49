"""The tenant API: a SIEM pulls the tenant's audit chain by ``after=<seq>``; status."""

from __future__ import annotations

import itertools
from typing import Any

from audit.actors import Actor
from audit.services import record
from tests.api.conftest import ApiClient

EVENTS = "/api/v1/tenant/audit-events"


def _pull(client: ApiClient, after: int, limit: int) -> dict[str, Any]:
    response = client.get(f"{EVENTS}?after={after}&limit={limit}")
    assert response.status_code == 200, response.json()
    body: dict[str, Any] = response.json()
    return body


def test_a_siem_pulls_every_event_once_in_order(globex_key: str, globex: Any) -> None:
    for i in range(7):
        record(
            action="kms_config.sealed",
            actor=Actor.system("t"),
            vendor=None,
            tenant=globex,
            data={"n": i},
        )
    siem, after, seen = ApiClient(globex_key), 0, []
    while True:
        page = _pull(siem, after, 3)
        seen += page["events"]
        after = page["next_after"]
        if not page["has_more"]:
            break
    seqs = [e["seq"] for e in seen]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs) and seqs[0] == 1
    sealed = [e["data"]["n"] for e in seen if e["action"] == "kms_config.sealed"]
    assert sealed == list(range(7))
    # The chain links up: each event's prev_hash is the hash before it.
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(seen))
    # Nothing new but the pulls themselves, which are audited too (api.request).
    later = _pull(siem, after, 100)["events"]
    assert {e["action"] for e in later} == {"api.request"}
    assert all(e["actor_id"] == globex_key[:12] for e in later)


def test_a_tenant_key_sees_only_its_own_tenants_events(
    globex_key: str, globex: Any, acme: Any
) -> None:
    from tests.broker.factories import TenantFactory

    other = TenantFactory(vendor=acme, tenant_id="hooli")
    record(action="kms_config.sealed", actor=Actor.system("t"), vendor=None, tenant=other)
    record(action="vendor.settings_changed", actor=Actor.system("t"), vendor=acme)
    events = _pull(ApiClient(globex_key), 0, 500)["events"]
    assert {e["tenant"] for e in events} <= {str(globex.public_id)}
    assert "vendor.settings_changed" not in {e["action"] for e in events}


def test_vendor_events_hide_the_tenants_internal_work(acme_key: str, globex: Any) -> None:
    record(action="kms_config.sealed", actor=Actor.system("t"), vendor=None, tenant=globex)
    record(action="tenant.created", actor=Actor.system("t"), vendor=None, tenant=globex)
    body = ApiClient(acme_key).get("/api/v1/vendor/audit-events?limit=500").json()
    actions = {e["action"] for e in body["events"]}
    assert "tenant.created" in actions and "kms_config.sealed" not in actions


def test_the_tenant_sees_its_own_status(globex_key: str, globex: Any) -> None:
    body = ApiClient(globex_key).get("/api/v1/tenant/status").json()
    assert body["tenant_id"] == "globex" and body["proxies"] == []


def test_bad_paging_parameters_are_400(globex_key: str) -> None:
    client = ApiClient(globex_key)
    for query in ("after=-1", "after=x", "limit=0", "limit=501"):
        response = client.get(f"{EVENTS}?{query}")
        assert response.status_code == 400 and response.json()["error"] == "invalid"
