"""Cross-organisation object references (ACCEPTANCE Z-01): your own org id with someone else's
object id must answer 404 and change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Invitation
from tests.broker.factories import login
from tests.permissions.matrix import build_world


@pytest.fixture
def world(db: None) -> Any:
    return build_world()


def _as(world: Any, persona: str) -> Client:
    return login(Client(), world.users[persona])


def test_tenant_b_admin_cannot_touch_tenant_a_objects_through_tenant_b_urls(world: Any) -> None:
    client = _as(world, "other_tenant_admin")
    own = world.other_tenant.public_id
    a_invitation = world.tenant_member_invitation
    a_member = world.users["tenant_viewer"]

    responses = [
        client.post(
            reverse(
                "tenants:invitation_revoke",
                kwargs={"tenant": own, "invitation": a_invitation.public_id},
            )
        ),
        client.post(
            reverse(
                "tenants:invitation_resend",
                kwargs={"tenant": own, "invitation": a_invitation.public_id},
            )
        ),
        client.post(
            reverse("tenants:member_role", kwargs={"tenant": own, "user": a_member.public_id}),
            {"role": "admin"},
        ),
        client.post(
            reverse("tenants:member_remove", kwargs={"tenant": own, "user": a_member.public_id})
        ),
    ]

    assert [r.status_code for r in responses] == [404] * 4
    a_invitation.refresh_from_db()
    assert a_invitation.revoked_at is None
    assert world.tenant.memberships.get(user=a_member).role == "viewer"


def test_tenant_cannot_manage_invitations_its_vendor_issued(world: Any) -> None:
    client = _as(world, "tenant_admin")
    url = reverse(
        "tenants:invitation_revoke",
        kwargs={
            "tenant": world.tenant.public_id,
            "invitation": world.tenant_admin_invitation.public_id,
        },
    )

    assert client.post(url).status_code == 404


def test_vendor_b_admin_cannot_reach_vendor_a_objects_through_vendor_b_urls(world: Any) -> None:
    client = _as(world, "other_vendor_admin")
    own = world.other_vendor.public_id
    a_member = world.users["vendor_viewer"]

    responses = [
        client.get(
            reverse(
                "tenants:vendor_detail", kwargs={"vendor": own, "tenant": world.tenant.public_id}
            )
        ),
        client.post(
            reverse(
                "vendors:invitation_revoke",
                kwargs={"vendor": own, "invitation": world.vendor_invitation.public_id},
            )
        ),
        client.post(
            reverse(
                "vendors:invitation_resend",
                kwargs={"vendor": own, "invitation": world.tenant_admin_invitation.public_id},
            )
        ),
        client.post(
            reverse("vendors:member_remove", kwargs={"vendor": own, "user": a_member.public_id})
        ),
        client.post(
            reverse("vendors:member_role", kwargs={"vendor": own, "user": a_member.public_id}),
            {"role": "admin"},
        ),
    ]

    assert [r.status_code for r in responses] == [404] * 5
    assert Invitation.objects.filter(revoked_at__isnull=False).count() == 0
    assert world.vendor.memberships.filter(user=a_member).exists()


def test_vendor_cannot_manage_invitations_a_tenant_issued_to_its_own_members(world: Any) -> None:
    client = _as(world, "vendor_admin")
    url = reverse(
        "vendors:invitation_revoke",
        kwargs={
            "vendor": world.vendor.public_id,
            "invitation": world.tenant_member_invitation.public_id,
        },
    )

    assert client.post(url).status_code == 404


def test_tenant_search_cannot_reach_another_vendors_tenants(world: Any) -> None:
    client = _as(world, "other_vendor_admin")

    response = client.get(
        reverse("tenants:vendor_list", kwargs={"vendor": world.other_vendor.public_id}), {"q": "a1"}
    )

    assert response.status_code == 200
    assert response.context["page"].items == []
