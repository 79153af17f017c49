from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Invitation
from audit.models import AuditEvent
from tenants.models import Tenant, TenantStatus
from tests.broker.factories import TenantFactory, UserFactory, invitation_path, login

pytestmark = pytest.mark.django_db


def _create(client: Client, vendor: Any, **data: str) -> Any:
    url = reverse("tenants:vendor_create", kwargs={"vendor": vendor.public_id})
    payload = {"tenant_id": "initech", "name": "Initech", "admin_email": "peter@initech.test"}
    payload.update(data)
    return client.post(url, payload)


def test_vendor_creates_a_tenant_and_invites_its_admin(
    alice_client: Client, acme: Any, mailoutbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _create(alice_client, acme)

    tenant = acme.tenants.get(tenant_id="initech")
    assert response["Location"] == reverse(
        "tenants:vendor_detail", kwargs={"vendor": acme.public_id, "tenant": tenant.public_id}
    )
    invitation = tenant.invitations.get()
    assert (invitation.email, invitation.role, invitation.issued_by) == (
        "peter@initech.test",
        "admin",
        "vendor",
    )
    assert mailoutbox[0].to == ["peter@initech.test"]
    assert invitation_path(mailoutbox[0]).startswith("/invitations/")
    actions = sorted(
        AuditEvent.objects.exclude(action__startswith="user.").values_list("action", flat=True)
    )
    assert actions == ["invitation.created", "tenant.created"]


@pytest.mark.parametrize(
    "tenant_id",
    ["", "with space", "slash/y", "ümlaut", "x" * 129, "semi;colon", "tab\there"],
    ids=["empty", "space", "slash", "non-ascii", "129-chars", "semicolon", "tab"],
)
def test_invalid_tenant_ids_are_rejected_with_a_field_error(
    alice_client: Client, acme: Any, tenant_id: str
) -> None:
    response = _create(alice_client, acme, tenant_id=tenant_id)

    assert response.status_code == 200
    assert response.context["form"].errors["tenant_id"]
    assert not acme.tenants.exists()


@pytest.mark.parametrize(
    "tenant_id", ["a", "A.b_c-9", "x" * 128], ids=["one-char", "all-classes", "128-chars"]
)
def test_valid_tenant_ids_are_accepted(alice_client: Client, acme: Any, tenant_id: str) -> None:
    _create(alice_client, acme, tenant_id=tenant_id)

    assert acme.tenants.filter(tenant_id=tenant_id).exists()


def test_tenant_id_is_unique_per_vendor_but_not_across_vendors(
    alice_client: Client, acme: Any
) -> None:
    TenantFactory(tenant_id="initech")  # same id at another vendor: allowed
    _create(alice_client, acme)

    duplicate = _create(alice_client, acme, name="Initech 2", admin_email="x@initech.test")

    assert duplicate.status_code == 200
    assert "already has a tenant" in str(duplicate.context["form"].errors["tenant_id"])
    assert Tenant.objects.filter(tenant_id="initech").count() == 2
    assert acme.tenants.count() == 1


def test_missing_admin_email_is_a_field_error(alice_client: Client, acme: Any) -> None:
    response = _create(alice_client, acme, admin_email="not-an-email")

    assert "admin_email" in response.context["form"].errors
    assert not Tenant.objects.exists()


def test_tenant_admin_accepts_and_sees_only_their_tenant(
    alice_client: Client,
    acme: Any,
    globex: Any,
    mailoutbox: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _create(alice_client, acme)
    initech = acme.tenants.get(tenant_id="initech")
    peter = UserFactory(email="peter@initech.test")
    peter_client = login(Client(), peter)

    response = peter_client.post(invitation_path(mailoutbox[0]))

    assert response["Location"] == reverse(
        "tenants:dashboard", kwargs={"tenant": initech.public_id}
    )
    initech.refresh_from_db()
    assert initech.status == TenantStatus.ACCEPTED
    dashboard = peter_client.get(response["Location"])
    assert dashboard.status_code == 200
    assert b"Globex" not in dashboard.content
    assert (
        peter_client.get(
            reverse("tenants:dashboard", kwargs={"tenant": globex.public_id})
        ).status_code
        == 404
    )
    assert (
        peter_client.get(
            reverse("vendors:dashboard", kwargs={"vendor": acme.public_id})
        ).status_code
        == 404
    )


def test_vendor_detail_shows_the_status_steps(alice_client: Client, acme: Any, globex: Any) -> None:
    globex.status = TenantStatus.ACTIVE
    globex.policy_version = 7
    globex.save()

    response = alice_client.get(
        reverse(
            "tenants:vendor_detail", kwargs={"vendor": acme.public_id, "tenant": globex.public_id}
        )
    )

    steps = response.context["steps"]
    assert [s.done for s in steps] == [True, True, True, True]
    assert steps[-1].current and steps[-1].detail == "Policy version 7"
    assert b"Policy version 7" in response.content


def test_tenant_admin_invites_a_viewer_and_manages_members(
    bob_client: Client,
    globex: Any,
    carol: Any,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        bob_client.post(
            reverse("tenants:invite", kwargs={"tenant": globex.public_id}),
            {"email": "dan@globex.test", "role": "viewer"},
        )
    invitation = globex.invitations.get(email="dan@globex.test")
    assert invitation.issued_by == Invitation.Kind.TENANT
    members_page = bob_client.get(reverse("tenants:members", kwargs={"tenant": globex.public_id}))
    assert b"dan@globex.test" in members_page.content

    bob_client.post(
        reverse(
            "tenants:member_role", kwargs={"tenant": globex.public_id, "user": carol.public_id}
        ),
        {"role": "admin"},
    )
    assert globex.memberships.get(user=carol).role == "admin"
    bob_client.post(
        reverse(
            "tenants:member_remove", kwargs={"tenant": globex.public_id, "user": carol.public_id}
        )
    )
    assert not globex.memberships.filter(user=carol).exists()


def test_tenant_last_admin_cannot_leave(bob: Any, bob_client: Client, globex: Any) -> None:
    response = bob_client.post(
        reverse(
            "tenants:member_remove", kwargs={"tenant": globex.public_id, "user": bob.public_id}
        ),
        follow=True,
    )

    assert globex.memberships.filter(user=bob, role="admin").exists()
    assert b"at least one admin" in response.content


def test_viewer_sees_members_but_not_invitations_or_controls(
    carol_client: Client, globex: Any, bob: Any
) -> None:
    response = carol_client.get(reverse("tenants:members", kwargs={"tenant": globex.public_id}))

    assert response.status_code == 200
    assert b"bob@globex.test" in response.content
    assert b"Change role" not in response.content
    assert b"Invite a member" not in response.content


def test_the_vendor_looking_at_a_tenant_is_recorded_in_the_tenants_chain(
    alice_client: Client, acme: Any, globex: Any
) -> None:
    alice_client.get(
        reverse(
            "tenants:vendor_detail", kwargs={"vendor": acme.public_id, "tenant": globex.public_id}
        )
    )

    event = AuditEvent.objects.get(action="tenant.viewed")
    assert event.chain.tenant_public_id == globex.public_id
