from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from tests.broker.factories import (
    TenantMembershipFactory,
    UserFactory,
    VendorMembershipFactory,
    enrol_totp,
    invitation_path,
    login,
)
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


def test_a_verified_user_creates_a_vendor_and_becomes_its_admin(
    mallory: Any, mallory_client: Client
) -> None:
    response = mallory_client.post(reverse("vendors:create"), {"name": "Initech"})

    vendor = Vendor.objects.get(name="Initech")
    assert response.status_code == 302
    assert response["Location"] == reverse("vendors:dashboard", kwargs={"vendor": vendor.public_id})
    assert vendor.memberships.get().user == mallory
    assert vendor.memberships.get().role == "admin"
    assert AuditEvent.objects.filter(action="vendor.created").count() == 1


def test_vendor_creation_shows_field_errors_tied_to_the_field(mallory_client: Client) -> None:
    response = mallory_client.post(reverse("vendors:create"), {"name": ""})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_name-help id_name-errors"' in html
    assert 'id="id_name-errors"' in html
    assert not Vendor.objects.exists()


def test_logged_out_users_are_sent_to_login(client: Client, acme: Any) -> None:
    response = client.get(reverse("vendors:dashboard", kwargs={"vendor": acme.public_id}))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_dashboard_shows_counts_and_admin_actions(
    alice_client: Client, acme: Any, globex: Any
) -> None:
    response = alice_client.get(reverse("vendors:dashboard", kwargs={"vendor": acme.public_id}))

    assert response.status_code == 200
    assert response.context["counts"]["invited"] == 1
    assert b"Add a tenant" in response.content


def test_vendor_admin_invites_another_admin_who_accepts(
    alice_client: Client, acme: Any, mailoutbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            reverse("vendors:invite", kwargs={"vendor": acme.public_id}),
            {"email": "Dave@Acme.test", "role": "admin"},
        )
    assert response.status_code == 302
    invitation = acme.invitations.get()
    assert invitation.email == "dave@acme.test"
    dave = UserFactory(email="dave@acme.test")
    dave_client = login(Client(), dave)

    accepted = dave_client.post(invitation_path(mailoutbox[0]))

    assert accepted["Location"] == reverse("vendors:dashboard", kwargs={"vendor": acme.public_id})
    assert acme.memberships.get(user=dave).role == "admin"


def test_the_last_admin_cannot_be_removed_or_demoted(
    alice: Any, alice_client: Client, acme: Any
) -> None:
    remove = reverse(
        "vendors:member_remove", kwargs={"vendor": acme.public_id, "user": alice.public_id}
    )
    demote = reverse(
        "vendors:member_role", kwargs={"vendor": acme.public_id, "user": alice.public_id}
    )

    alice_client.post(remove)
    alice_client.post(demote, {"role": "viewer"})

    assert acme.memberships.get(user=alice).role == "admin"
    assert not AuditEvent.objects.filter(action__startswith="vendor_member.").exists()


def test_an_admin_can_demote_and_remove_another_admin(
    alice: Any, alice_client: Client, acme: Any
) -> None:
    other = VendorMembershipFactory(vendor=acme, role="admin").user
    demote = reverse(
        "vendors:member_role", kwargs={"vendor": acme.public_id, "user": other.public_id}
    )
    remove = reverse(
        "vendors:member_remove", kwargs={"vendor": acme.public_id, "user": other.public_id}
    )

    alice_client.post(demote, {"role": "viewer"})
    assert acme.memberships.get(user=other).role == "viewer"
    alice_client.post(remove)

    assert not acme.memberships.filter(user=other).exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="vendor_member.").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["vendor_member.removed", "vendor_member.role_changed"]


def test_removed_member_loses_access_on_the_next_request(alice_client: Client, acme: Any) -> None:
    member = VendorMembershipFactory(vendor=acme, role="admin")
    enrol_totp(member.user)
    their_client = login(Client(), member.user)
    dashboard = reverse("vendors:dashboard", kwargs={"vendor": acme.public_id})
    assert their_client.get(dashboard).status_code == 200

    alice_client.post(
        reverse(
            "vendors:member_remove",
            kwargs={"vendor": acme.public_id, "user": member.user.public_id},
        )
    )

    assert their_client.get(dashboard).status_code == 404


def test_settings_toggle_tenant_admin_mfa_requirement(alice_client: Client, acme: Any) -> None:
    url = reverse("vendors:settings", kwargs={"vendor": acme.public_id})

    alice_client.post(url, {})

    acme.refresh_from_db()
    assert acme.require_tenant_admin_mfa is False
    assert AuditEvent.objects.filter(action="vendor.settings_changed").count() == 1


def test_user_in_several_organisations_can_switch_between_them(acme: Any, globex: Any) -> None:
    membership = VendorMembershipFactory(vendor=acme, role="viewer")
    TenantMembershipFactory(tenant=globex, user=membership.user, role="viewer")
    client = login(Client(), membership.user)

    home = client.get(reverse("home"))
    vendor_page = client.get(reverse("vendors:dashboard", kwargs={"vendor": acme.public_id}))
    tenant_page = client.get(reverse("tenants:dashboard", kwargs={"tenant": globex.public_id}))

    assert home.status_code == 200
    assert [o.name for o in home.context["organisations"]] == ["Acme SaaS", "Globex Corporation"]
    switcher = vendor_page.content.decode()
    assert reverse("tenants:dashboard", kwargs={"tenant": globex.public_id}) in switcher
    assert tenant_page.status_code == 200
    assert (
        reverse("vendors:dashboard", kwargs={"vendor": acme.public_id})
        in tenant_page.content.decode()
    )


def test_home_goes_straight_to_the_only_organisation(alice_client: Client, acme: Any) -> None:
    response = alice_client.get(reverse("home"))

    assert response["Location"] == reverse("vendors:dashboard", kwargs={"vendor": acme.public_id})
