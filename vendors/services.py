"""Writes about vendors and their members. One audit event per state change."""

from __future__ import annotations

from django.db import transaction

from accounts.memberships import ensure_an_admin_remains
from accounts.models import Invitation, User
from accounts.services import invitation_create
from audit.actors import Actor
from audit.services import record
from vendors.models import Role, Vendor, VendorMembership


@transaction.atomic
def vendor_create(*, actor: Actor, user: User, name: str) -> Vendor:
    """A verified user creates a vendor and becomes its first admin (DESIGN.md §5a step 1)."""
    vendor = Vendor(name=name.strip())
    vendor.full_clean()
    vendor.save()
    VendorMembership.objects.create(vendor=vendor, user=user, role=Role.ADMIN)
    record(
        action="vendor.created",
        actor=actor,
        vendor=vendor,
        target=vendor,
        data={"name": vendor.name},
    )
    return vendor


def vendor_invite(
    *, actor: Actor, vendor: Vendor, email: str, role: str, invited_by: User | None
) -> Invitation:
    return invitation_create(
        actor=actor,
        vendor=vendor,
        issued_by=Invitation.Kind.VENDOR,
        email=email,
        role=role,
        invited_by=invited_by,
    )


@transaction.atomic
def vendor_member_add(*, actor: Actor, vendor: Vendor, user: User, role: str) -> VendorMembership:
    """Add a member without an invitation (operators, demo data); invitations are the normal way."""
    membership = VendorMembership.objects.create(vendor=vendor, user=user, role=role)
    record(
        action="vendor_member.added", actor=actor, vendor=vendor, target=user, data={"role": role}
    )
    return membership


@transaction.atomic
def vendor_member_role_change(
    *, actor: Actor, membership: VendorMembership, role: str
) -> VendorMembership:
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}")
    ensure_an_admin_remains(membership.vendor.memberships.all(), membership, new_role=role)
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    record(
        action="vendor_member.role_changed",
        actor=actor,
        vendor=membership.vendor,
        target=membership.user,
        data={"from": old, "to": role},
    )
    return membership


@transaction.atomic
def vendor_member_remove(*, actor: Actor, membership: VendorMembership) -> None:
    ensure_an_admin_remains(membership.vendor.memberships.all(), membership, new_role=None)
    vendor, user, role = membership.vendor, membership.user, membership.role
    membership.delete()
    record(
        action="vendor_member.removed", actor=actor, vendor=vendor, target=user, data={"role": role}
    )


@transaction.atomic
def vendor_settings_update(
    *, actor: Actor, vendor: Vendor, require_tenant_admin_mfa: bool
) -> Vendor:
    if vendor.require_tenant_admin_mfa == require_tenant_admin_mfa:
        return vendor  # nothing changed, nothing to record
    vendor.require_tenant_admin_mfa = require_tenant_admin_mfa
    vendor.save(update_fields=["require_tenant_admin_mfa"])
    record(
        action="vendor.settings_changed",
        actor=actor,
        vendor=vendor,
        target=vendor,
        data={"require_tenant_admin_mfa": require_tenant_admin_mfa},
    )
    return vendor
