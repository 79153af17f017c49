"""The vendor API: tenants (one and 1,000 at a time), invitations, status; mass assignment."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core import mail

from audit.models import AuditEvent
from tenants.models import Tenant
from tests.api.conftest import ApiClient

TENANTS = "/api/v1/vendor/tenants"


def test_a_vendor_key_provisions_a_tenant_and_its_admin_is_invited(
    api: ApiClient, acme: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            TENANTS, {"tenant_id": "umbrella", "name": "Umbrella", "admin_email": "ceo@umb.test"}
        )
    assert response.status_code == 201, response.json()
    tenant = acme.tenants.get(tenant_id="umbrella")
    assert response.json()["id"] == str(tenant.public_id)
    assert [m.to for m in mail.outbox] == [["ceo@umb.test"]]
    created = AuditEvent.objects.get(action="tenant.created")
    assert created.actor_kind == "vendor_api_key" and created.actor_id == api.key[:12]  # type: ignore[index]


def test_it_ignores_mass_assigned_fields(
    api: ApiClient, acme: Any, globex: Any, initech: Any
) -> None:
    sneaky = {
        "vendor": str(initech.public_id),
        "vendor_id": initech.pk,
        "tenant_id": "sneaky",
        "role": "admin",
        "is_staff": True,
        "status": "active",
        "policy_version": 99,
        "id": str(globex.public_id),
    }
    created = api.post(TENANTS, {**sneaky, "name": "Sneaky"})
    assert created.status_code == 201
    tenant = Tenant.objects.get(tenant_id="sneaky")
    assert (tenant.vendor, tenant.status, tenant.policy_version) == (acme, "invited", 0)
    assert tenant.public_id != globex.public_id
    patched = api.patch(f"{TENANTS}/{globex.public_id}", {**sneaky, "name": "Globex 2"})
    assert patched.status_code == 200
    globex.refresh_from_db()
    assert (globex.name, globex.tenant_id, globex.vendor, globex.status) == (
        "Globex 2",
        "globex",
        acme,
        "invited",
    )
    assert not initech.tenants.exists()


def test_validation_errors_use_the_one_error_format(api: ApiClient, globex: Any) -> None:
    response = api.post(TENANTS, {"tenant_id": "has space", "name": ""})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid" and set(body["fields"]) == {"tenant_id", "name"}
    taken = api.post(TENANTS, {"tenant_id": "globex", "name": "Again"})
    assert taken.status_code == 409 and taken.json()["error"] == "conflict"
    assert "tenant_id" in taken.json()["fields"]
    assert api.get(f"{TENANTS}?limit=0").json()["fields"] == {"limit": [mock_text()]}


def mock_text() -> str:
    return "Ensure this value is greater than or equal to 1."


def test_list_searches_filters_and_pages_by_cursor(api: ApiClient, acme: Any) -> None:
    for i in range(5):
        api.post(TENANTS, {"tenant_id": f"t{i}", "name": f"Tenant {i}"})
    seen, cursor = [], None
    while True:
        page = api.get(f"{TENANTS}?limit=2" + (f"&cursor={cursor}" if cursor else "")).json()
        seen += [t["tenant_id"] for t in page["results"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"t{i}" for i in range(5)]
    assert [t["tenant_id"] for t in api.get(f"{TENANTS}?search=tenant 3").json()["results"]] == [
        "t3"
    ]
    assert api.get(f"{TENANTS}?status=active").json()["results"] == []


def test_rename_and_delete_are_audited_in_the_tenants_chain(api: ApiClient, globex: Any) -> None:
    assert api.patch(f"{TENANTS}/{globex.public_id}", {"name": "Globex Inc"}).status_code == 200
    assert api.delete(f"{TENANTS}/{globex.public_id}").status_code == 204
    assert not Tenant.objects.filter(pk=globex.pk).exists()
    assert api.get(f"{TENANTS}/{globex.public_id}").status_code == 404
    actions = AuditEvent.objects.filter(tenant_public_id=globex.public_id).values_list(
        "action", flat=True
    )
    assert {"tenant.updated", "tenant.deleted"} <= set(actions)


def test_another_vendors_tenant_is_404(initech_key: str, globex: Any) -> None:
    other = ApiClient(initech_key)
    for method in ("GET", "PATCH", "DELETE"):
        response = other.request(method, f"{TENANTS}/{globex.public_id}", {"name": "x"})
        assert response.status_code == 404
    assert Tenant.objects.filter(pk=globex.pk, name="Globex Corporation").exists()


@pytest.mark.slow
def test_bulk_creates_1000_tenants_in_one_call_with_per_item_results(
    api: ApiClient, acme: Any, globex: Any
) -> None:
    items = [{"tenant_id": f"bulk-{i:04d}", "name": f"Bulk {i}"} for i in range(1000)]
    items[10] = {"tenant_id": "globex", "name": "taken"}
    items[20] = {"tenant_id": "bad id!", "name": "x"}
    started = time.perf_counter()
    response = api.post(f"{TENANTS}/bulk", {"tenants": items})
    elapsed = time.perf_counter() - started
    assert response.status_code == 207
    body = response.json()
    assert (body["created"], body["failed"]) == (998, 2)
    failed = {r["index"]: r["errors"] for r in body["results"] if not r["ok"]}
    assert set(failed) == {10, 20} and "tenant_id" in failed[10] and "tenant_id" in failed[20]
    assert acme.tenants.count() == 999
    assert AuditEvent.objects.filter(action="tenant.created").count() == 998
    # Loose bound: catches a per-item query explosion without flaking on a loaded CI runner.
    assert elapsed < 60, f"1,000 tenants took {elapsed:.1f} s"


def test_bulk_refuses_more_than_1000_items(api: ApiClient) -> None:
    items = [{"tenant_id": f"t{i}", "name": "x"} for i in range(1001)]
    response = api.post(f"{TENANTS}/bulk", {"tenants": items})
    assert response.status_code == 400 and "tenants" in response.json()["fields"]


def test_invitations_can_be_listed_resent_and_revoked(
    api: ApiClient, globex: Any, django_capture_on_commit_callbacks: Any
) -> None:
    base = f"{TENANTS}/{globex.public_id}/invitations"
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(base, {"email": "first@globex.test", "role": "viewer"})
        inv = created.json()["id"]
        assert api.post(f"{base}/{inv}/resend").status_code == 200
    assert created.status_code == 201 and created.json()["role"] == "admin"  # role not assignable
    assert [i["id"] for i in api.get(base).json()] == [inv]
    assert api.post(f"{base}/{inv}/revoke").json()["status"] == "revoked"
    again = api.post(f"{base}/{inv}/resend")
    assert again.status_code == 409 and again.json()["error"] == "conflict"
    assert len(mail.outbox) == 2


def test_tenant_status_reports_policy_root_key_and_heartbeats(api: ApiClient, globex: Any) -> None:
    body = api.get(f"{TENANTS}/{globex.public_id}/status").json()
    assert body == {
        "id": str(globex.public_id),
        "tenant_id": "globex",
        "status": "invited",
        "policy_version": 0,
        "root_key_status": None,
        "last_heartbeat_at": None,
        "proxies": [],
    }


def test_a_key_is_throttled_with_429_and_retry_after(api: ApiClient, settings: Any) -> None:
    settings.OPENCMK_API_RATE_PER_KEY = "3/min"
    codes = [api.get(TENANTS).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = api.get(TENANTS)
    assert response.json()["error"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 60


def test_an_address_is_throttled_before_authentication(db: None, settings: Any) -> None:
    settings.OPENCMK_API_RATE_PER_IP = "2/min"
    anonymous = ApiClient(None)
    codes = [anonymous.get(TENANTS).status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    assert anonymous.get(TENANTS, REMOTE_ADDR="192.0.2.99").status_code == 401  # others unaffected
