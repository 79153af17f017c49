"""Writes about tenants and their members. One audit event per state change."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.memberships import ensure_an_admin_remains
from accounts.models import Invitation, User
from accounts.services import invitation_create
from audit.actors import Actor
from audit.services import record
from tenants.models import Tenant, TenantMembership
from vendors.models import Role, Vendor


class TenantIdTakenError(ValidationError):
    def __init__(self, tenant_id: str) -> None:
        super().__init__({"tenant_id": f"This vendor already has a tenant with id “{tenant_id}”."})


@transaction.atomic
def tenant_create(
    *,
    actor: Actor,
    vendor: Vendor,
    tenant_id: str,
    name: str,
    admin_email: str | None,
    invited_by: User | None = None,
) -> Tenant:
    """Provision a tenant and invite its first admin (DESIGN.md §5a step 3).

    Without ``admin_email`` no invitation is sent (``seed_demo`` adds members directly).
    """
    tenant = Tenant(vendor=vendor, tenant_id=tenant_id.strip(), name=name.strip())
    if vendor.tenants.filter(tenant_id=tenant.tenant_id).exists():
        raise TenantIdTakenError(tenant.tenant_id)
    tenant.full_clean()
    try:
        with transaction.atomic():
            tenant.save()
    except IntegrityError:  # a concurrent create won the unique constraint
        raise TenantIdTakenError(tenant.tenant_id) from None
    record(
        action="tenant.created",
        actor=actor,
        vendor=vendor,
        tenant=tenant,
        target=tenant,
        data={"tenant_id": tenant.tenant_id, "name": tenant.name},
    )
    if admin_email is None:
        return tenant
    invitation_create(
        actor=actor,
        vendor=vendor,
        tenant=tenant,
        issued_by=Invitation.Kind.VENDOR,
        email=admin_email,
        role=Role.ADMIN,
        invited_by=invited_by,
    )
    return tenant


def tenant_invite(
    *, actor: Actor, tenant: Tenant, email: str, role: str, invited_by: User | None
) -> Invitation:
    return invitation_create(
        actor=actor,
        vendor=tenant.vendor,
        tenant=tenant,
        issued_by=Invitation.Kind.TENANT,
        email=email,
        role=role,
        invited_by=invited_by,
    )


@transaction.atomic
def tenant_member_add(*, actor: Actor, tenant: Tenant, user: User, role: str) -> TenantMembership:
    """Add a member without an invitation (operators, demo data); invitations are the normal way."""
    membership = TenantMembership.objects.create(tenant=tenant, user=user, role=role)
    record(
        action="tenant_member.added",
        actor=actor,
        vendor=tenant.vendor,
        tenant=tenant,
        target=user,
        data={"role": role},
    )
    return membership


@transaction.atomic
def tenant_member_role_change(
    *, actor: Actor, membership: TenantMembership, role: str
) -> TenantMembership:
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}")
    ensure_an_admin_remains(membership.tenant.memberships.all(), membership, new_role=role)
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    record(
        action="tenant_member.role_changed",
        actor=actor,
        vendor=membership.tenant.vendor,
        tenant=membership.tenant,
        target=membership.user,
        data={"from": old, "to": role},
    )
    return membership


@transaction.atomic
def tenant_member_remove(*, actor: Actor, membership: TenantMembership) -> None:
    ensure_an_admin_remains(membership.tenant.memberships.all(), membership, new_role=None)
    tenant, user, role = membership.tenant, membership.user, membership.role
    membership.delete()
    record(
        action="tenant_member.removed",
        actor=actor,
        vendor=tenant.vendor,
        tenant=tenant,
        target=user,
        data={"role": role},
    )
