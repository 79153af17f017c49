"""Key pages: an admin creates a key (shown once), sees it listed by prefix, revokes it."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from apikeys.models import ApiKey
from tests.api.conftest import ApiClient
from tests.broker.factories import login


def _keys_url(acme: Any) -> str:
    return f"/vendors/{acme.public_id}/api-keys/"


def test_a_vendor_admin_creates_a_key_that_is_shown_once_and_works(
    alice_client: Client, acme: Any
) -> None:
    response = alice_client.post(
        _keys_url(acme), {"name": "provisioning", "scopes": ["tenants:read", "tenants:write"]}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = re.search(r'value="(ocv_[0-9A-Za-z]{36})"', response.content.decode())
    assert secret is not None
    key = secret.group(1)
    assert (
        ApiClient(key).post("/api/v1/vendor/tenants", {"tenant_id": "t1", "name": "T1"}).status_code
        == 201
    )
    listing = alice_client.get(_keys_url(acme)).content.decode()
    assert key[:12] in listing and key not in listing
    row = ApiKey.objects.get()
    assert (row.name, row.scopes, row.created_by.email) == (
        "provisioning",
        ["tenants:read", "tenants:write"],
        "alice@acme.test",
    )


def test_revoking_in_the_portal_stops_the_key_at_once(alice_client: Client, acme: Any) -> None:
    page = alice_client.post(_keys_url(acme), {"name": "ci", "scopes": ["tenants:read"]})
    key = re.search(r'value="(ocv_\w+)"', page.content.decode()).group(1)  # type: ignore[union-attr]
    row = ApiKey.objects.get()
    response = alice_client.post(f"{_keys_url(acme)}{row.public_id}/revoke/")
    assert response.status_code == 302
    assert ApiClient(key).get("/api/v1/vendor/tenants").status_code == 401


def test_a_third_live_key_is_refused_with_a_message(alice_client: Client, acme: Any) -> None:
    for name in ("one", "two"):
        alice_client.post(_keys_url(acme), {"name": name, "scopes": ["tenants:read"]})
    third = alice_client.post(_keys_url(acme), {"name": "three", "scopes": ["tenants:read"]})
    assert third.status_code == 200 and "at most 2 live API keys" in third.content.decode()
    assert ApiKey.objects.count() == 2


def test_creating_a_key_needs_a_fresh_reauthentication(alice: Any, acme: Any) -> None:
    client = login(Client(), alice, reauthenticated=False)
    client.session  # noqa: B018 -- session exists
    # Make the last authentication old enough that allauth asks again.
    session = client.session
    session["account_authentication_methods"][0]["at"] -= 3600
    session.save()
    response = client.post(_keys_url(acme), {"name": "ci", "scopes": ["tenants:read"]})
    assert response.status_code == 302 and "/reauthenticate/" in response["Location"]
    assert not ApiKey.objects.exists()


def test_an_admin_without_mfa_is_sent_to_enrol(acme: Any) -> None:
    from tests.broker.factories import UserFactory, VendorMembershipFactory

    admin = VendorMembershipFactory(vendor=acme, role="admin", user=UserFactory()).user
    response = login(Client(), admin).get(_keys_url(acme))
    assert response.status_code == 302 and "/2fa/" in response["Location"]


def test_a_tenant_admin_creates_a_siem_key_for_the_tenant_api(
    bob_client: Client, globex: Any
) -> None:
    response = bob_client.post(
        f"/tenants/{globex.public_id}/api-keys/", {"name": "siem", "scopes": ["audit:read"]}
    )
    key = re.search(r'value="(oct_\w+)"', response.content.decode()).group(1)  # type: ignore[union-attr]
    siem = ApiClient(key)
    assert siem.get("/api/v1/tenant/audit-events").status_code == 200
    assert siem.get("/api/v1/tenant/status").status_code == 403  # scope not granted
    assert siem.get("/api/v1/vendor/tenants").status_code == 403
