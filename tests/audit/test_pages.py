"""Audit pages: who sees which events (L-11), page views recorded, filters, pagination."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import Invitation
from accounts.services import invitation_create
from audit.actors import Actor
from audit.chain import chain_key
from audit.models import AuditEvent
from audit.services import record
from vendors.models import Role

pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")


def tenant_url(tenant: Any, suffix: str = "") -> str:
    return f"/audit/tenants/{tenant.public_id}/{suffix}"


def vendor_url(vendor: Any, suffix: str = "") -> str:
    return f"/audit/vendors/{vendor.public_id}/{suffix}"


@pytest.fixture
def history(
    acme: Any, globex: Any, other_tenant: Any, other_vendor: Any, alice: Any, bob: Any
) -> None:
    """What happened at Acme: provisioning, tenant-private work, a proxy, another tenant."""
    vendor_actor, tenant_actor = Actor.for_user(alice), Actor.for_user(bob)
    record(action="vendor.settings_changed", actor=vendor_actor, vendor=acme)
    record(action="tenant.created", actor=vendor_actor, vendor=acme, tenant=globex, target=globex)
    invitation_create(
        actor=vendor_actor,
        vendor=acme,
        tenant=globex,
        issued_by=Invitation.Kind.VENDOR,
        email="first-admin@globex.test",
        role=Role.ADMIN,
    )
    invitation_create(
        actor=tenant_actor,
        vendor=acme,
        tenant=globex,
        issued_by=Invitation.Kind.TENANT,
        email="colleague@globex.test",
        role=Role.VIEWER,
    )
    record(
        action="kms_config.sealed", actor=tenant_actor, vendor=acme, tenant=globex, target="cfg-17"
    )
    record(
        action="proxy.bundle_fetched",
        actor=Actor.proxy_cluster("cluster-1"),
        vendor=acme,
        tenant=globex,
    )
    record(
        action="kms_config.sealed",
        actor=Actor.system(),
        vendor=acme,
        tenant=other_tenant,
        target="cfg-99",
    )
    record(action="vendor.settings_changed", actor=Actor.system(), vendor=other_vendor)


def _shown(response: Any) -> list[tuple[str, str]]:
    return [(e.action, e.target_id) for e in response.context["page"].events]


def test_tenant_members_see_every_event_of_their_tenant_and_nothing_else(
    history: None, globex: Any, bob_client: Client, carol_client: Client
) -> None:
    for client in (bob_client, carol_client):
        response = client.get(tenant_url(globex))
        assert response.status_code == 200
        actions = [a for a, _ in _shown(response)]
        assert {"tenant.created", "kms_config.sealed", "proxy.bundle_fetched"} <= set(actions)
        assert actions.count("invitation.created") == 2
        assert ("kms_config.sealed", "cfg-99") not in _shown(response)
        assert "vendor.settings_changed" not in actions


def test_vendor_sees_its_events_and_only_the_provisioning_side_of_tenants(
    history: None, alice_client: Client, acme: Any
) -> None:
    response = alice_client.get(vendor_url(acme))
    assert response.status_code == 200
    shown = _shown(response)
    actions = [a for a, _ in shown]
    assert {"vendor.settings_changed", "tenant.created", "proxy.bundle_fetched"} <= set(actions)
    assert actions.count("invitation.created") == 1  # the one the vendor issued
    assert "kms_config.sealed" not in actions  # tenant-private, in either tenant
    other = AuditEvent.objects.filter(action="vendor.settings_changed", actor_kind="system")
    assert all(
        e.event_id not in {x.event_id for x in response.context["page"].events} for e in other
    )


@pytest.mark.parametrize(
    ("who", "status"), [("mallory_client", 404), ("alice_client", 404), ("carol_client", 200)]
)
def test_tenant_audit_page_is_for_tenant_members_only(
    history: None, globex: Any, who: str, status: int, request: pytest.FixtureRequest
) -> None:
    client: Client = request.getfixturevalue(who)
    assert client.get(tenant_url(globex)).status_code == status


@pytest.mark.parametrize(
    ("who", "status"), [("mallory_client", 404), ("bob_client", 404), ("victor_client", 200)]
)
def test_vendor_audit_page_is_for_vendor_members_only(
    history: None, acme: Any, who: str, status: int, request: pytest.FixtureRequest
) -> None:
    client: Client = request.getfixturevalue(who)
    assert client.get(vendor_url(acme)).status_code == status


def test_viewing_an_audit_page_is_itself_recorded_in_that_chain(
    history: None, carol_client: Client, carol: Any, globex: Any, alice_client: Client, acme: Any
) -> None:
    carol_client.get(tenant_url(globex) + "?action=kms_config.")
    event = AuditEvent.objects.filter(action="audit.viewed").get()
    assert event.chain.key == chain_key(acme.public_id, globex.public_id)
    assert event.actor_id == str(carol.public_id)
    assert event.data == {"action_prefix": "kms_config."}
    assert not event.vendor_visible
    alice_client.get(vendor_url(acme))
    vendor_view = AuditEvent.objects.filter(action="audit.viewed").exclude(pk=event.pk).get()
    assert vendor_view.chain.key == chain_key(acme.public_id, None)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("actor=proxy_cluster", {"proxy.bundle_fetched"}),
        ("action=invitation.", {"invitation.created"}),
        ("outcome=failure", {"tenant.viewed"}),
        ("since=2000-01-01&until=2000-01-01", set()),
    ],
)
def test_filters_narrow_the_tenant_log(
    history: None, bob_client: Client, globex: Any, query: str, expected: set[str]
) -> None:
    record(
        action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=globex, outcome="failure"
    )
    response = bob_client.get(tenant_url(globex) + "?" + query)
    assert {a for a, _ in _shown(response)} == expected


def test_a_date_range_keeps_todays_events(history: None, bob_client: Client, globex: Any) -> None:
    from django.utils import timezone

    today = timezone.now().date().isoformat()
    response = bob_client.get(tenant_url(globex) + f"?since={today}&until={today}")
    assert len(_shown(response)) == 6


def test_tenant_pagination_walks_every_event_once(
    bob_client: Client, globex: Any, settings: Any
) -> None:
    for n in range(120):
        record(
            action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=globex, data={"n": n}
        )
    seen: list[int] = []
    url = tenant_url(globex) + "?action=tenant.viewed"
    while url:
        page = bob_client.get(url).context["page"]
        seen += [e.seq for e in page.events]
        url = (
            tenant_url(globex) + f"?action=tenant.viewed&cursor={page.next_cursor}"
            if page.next_cursor
            else ""
        )
    assert seen == sorted(seen, reverse=True)
    assert len(seen) == len(set(seen)) == 120


def test_vendor_pagination_walks_every_event_once(
    alice_client: Client, acme: Any, globex: Any
) -> None:
    for n in range(70):
        record(
            action="tenant.created", actor=Actor.system(), vendor=acme, tenant=globex, data={"n": n}
        )
        record(action="vendor.settings_changed", actor=Actor.system(), vendor=acme, data={"n": n})
    seen: list[str] = []
    url = vendor_url(acme) + "?actor=system"
    while url:
        page = alice_client.get(url).context["page"]
        seen += [str(e.event_id) for e in page.events]
        url = (
            vendor_url(acme) + f"?actor=system&cursor={page.next_cursor}"
            if page.next_cursor
            else ""
        )
    assert len(seen) == len(set(seen)) == 140


def test_a_garbled_cursor_shows_the_first_page(
    history: None, bob_client: Client, globex: Any
) -> None:
    assert bob_client.get(tenant_url(globex) + "?cursor=%%%not-base64").status_code == 200
