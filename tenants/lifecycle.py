"""Tenant writes the vendor REST API adds to ``tenants.services``: rename, delete, bulk create.

The portal and the API call these same functions (STYLE.md); one audit event per state change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.actors import Actor
from audit.services import record
from tenants.models import Tenant
from tenants.services import tenant_create
from vendors.models import Vendor

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
    """Create each item on its own (a savepoint each): one bad row never sinks the others.

    One outer transaction keeps 1,000 creations to one commit; invitation e-mails go out after it.
    """
    if len(items) > BULK_MAX:
        raise ValueError(f"at most {BULK_MAX} tenants per call")
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
