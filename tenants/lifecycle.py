"""Tenant writes the vendor REST API adds to ``tenants.services``: rename, delete, bulk create.

The portal and the API call these same functions (STYLE.md); one audit event per state change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Invitation
from accounts.services import invitation_create
from audit.actors import Actor
from audit.services import record
from tenants.models import Tenant
from tenants.services import TenantIdTakenError, tenant_create
from vendors.models import Role, Vendor

BULK_MAX = 1000


@transaction.atomic
def tenant_rename(*, actor: Actor, tenant: Tenant, name: str) -> Tenant:
    old, new = tenant.name, name.strip()
    if new == old:
        return tenant  # nothing changed, nothing to record
    tenant.name = new
    tenant.full_clean(exclude=["vendor"], validate_unique=False, validate_constraints=False)
    tenant.save(update_fields=["name", "updated_at"])
    record(
        action="tenant.updated",
        actor=actor,
        vendor=tenant.vendor,
        tenant=tenant,
        target=tenant,
        data={"name": {"from": old, "to": new}},
    )
    return tenant


@transaction.atomic
def tenant_delete(*, actor: Actor, tenant: Tenant) -> None:
    """Delete a tenant and everything it owns; proxies learn it from the change stream."""
    # The event goes into the tenant's own chain first (which outlives the row), so its trail
    # ends with who deleted it.
    record(
        action="tenant.deleted",
        actor=actor,
        vendor=tenant.vendor,
        tenant=tenant,
        target=tenant,
        data={"tenant_id": tenant.tenant_id, "name": tenant.name},
    )
    tenant.delete()


@dataclass(frozen=True)
class BulkItem:
    tenant_id: str
    name: str
    admin_email: str | None


@dataclass(frozen=True)
class BulkResult:
    index: int
    tenant: Tenant | None = None
    errors: dict[str, Any] | None = None


@transaction.atomic
def tenant_create_bulk(
    *, actor: Actor, vendor: Vendor, items: Sequence[BulkItem]
) -> list[BulkResult]:
    """Create many tenants in one transaction, with a result (tenant or errors) per item.

    Checks run on the whole batch first (one query for ids already taken), the valid tenants
    are inserted with one ``bulk_create``, then each gets its ``tenant.created`` event (each
    tenant starts its own audit chain, so events cannot be batched) and its invitation.
    Invitation e-mails go out after the commit.
    """
    if len(items) > BULK_MAX:
        raise ValueError(f"at most {BULK_MAX} tenants per call")
    results: dict[int, BulkResult] = {}
    pending: list[tuple[int, Tenant, BulkItem]] = []
    wanted = [item.tenant_id.strip() for item in items]
    taken = set(vendor.tenants.filter(tenant_id__in=wanted).values_list("tenant_id", flat=True))
    for index, item in enumerate(items):
        tenant = Tenant(vendor=vendor, tenant_id=wanted[index], name=item.name.strip())
        errors = _check(tenant, taken)
        if errors:
            results[index] = BulkResult(index=index, errors=errors)
            continue
        taken.add(tenant.tenant_id)
        pending.append((index, tenant, item))
    try:
        with transaction.atomic():
            Tenant.objects.bulk_create([tenant for _, tenant, _ in pending])
    except IntegrityError:  # a concurrent create took an id: fall back to one at a time
        return _create_one_by_one(actor=actor, vendor=vendor, items=items)
    for index, tenant, item in pending:
        _created(actor, tenant, item)
        results[index] = BulkResult(index=index, tenant=tenant)
    return [results[index] for index in range(len(items))]


def _check(tenant: Tenant, taken: set[str]) -> dict[str, Any] | None:
    if tenant.tenant_id in taken:
        return TenantIdTakenError(tenant.tenant_id).message_dict
    try:
        tenant.full_clean(exclude=["vendor"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        return exc.message_dict
    return None


def _created(actor: Actor, tenant: Tenant, item: BulkItem) -> None:
    """What ``tenant_create`` does after its insert: the audit event and the invitation."""
    record(
        action="tenant.created",
        actor=actor,
        vendor=tenant.vendor,
        tenant=tenant,
        target=tenant,
        data={"tenant_id": tenant.tenant_id, "name": tenant.name},
    )
    if item.admin_email is not None:
        invitation_create(
            actor=actor,
            vendor=tenant.vendor,
            tenant=tenant,
            issued_by=Invitation.Kind.VENDOR,
            email=item.admin_email,
            role=Role.ADMIN,
        )


def _create_one_by_one(
    *, actor: Actor, vendor: Vendor, items: Sequence[BulkItem]
) -> list[BulkResult]:
    results = []
    for index, item in enumerate(items):
        try:
            tenant = tenant_create(
                actor=actor,
                vendor=vendor,
                tenant_id=item.tenant_id,
                name=item.name,
                admin_email=item.admin_email,
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
            results.append(BulkResult(index=index, errors=errors))
        else:
            results.append(BulkResult(index=index, tenant=tenant))
    return results
