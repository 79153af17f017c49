"""One organisation's view of the audit log (a tenant's or a vendor's), behind its chokepoint.

The pages of both kinds differ only in which events they read and how they paginate; this keeps
the views one set of thin functions. Permissions come from ``tenants.access`` / ``vendors.access``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.http import HttpRequest

from accounts.roles import Capability
from audit import selectors
from audit.chain import chain_key
from audit.models import AuditChainHead
from audit.selectors import AuditFilters, AuditPage
from tenants.access import tenant_for_user
from vendors.access import vendor_for_user

# Who may do what (docs/audit.md): every member reads, verifies and downloads checkpoints;
# only admins export and subscribe to notifications (admin-only capabilities of accounts.roles).
READ = {"tenant": Capability.TENANT_VIEW, "vendor": Capability.VENDOR_VIEW}
ADMIN = {"tenant": Capability.TENANT_AUDIT_ADMIN, "vendor": Capability.VENDOR_AUDIT_ADMIN}


@dataclass(frozen=True)
class AuditScope:
    kind: str  # "tenant" | "vendor"
    access: Any
    vendor: Any
    tenant: Any | None

    @property
    def is_admin(self) -> bool:
        return bool(self.access.is_admin)

    @property
    def org(self) -> Any:
        return self.tenant if self.tenant is not None else self.vendor

    @property
    def chain(self) -> str:
        return chain_key(self.vendor.public_id, self.tenant.public_id if self.tenant else None)

    def head(self) -> AuditChainHead | None:
        return AuditChainHead.objects.filter(key=self.chain).first()

    def events(self, filters: AuditFilters) -> Any:
        if self.tenant is not None:
            return selectors.tenant_events(tenant=self.tenant, filters=filters)
        return selectors.vendor_events(vendor=self.vendor, filters=filters)

    def page(self, filters: AuditFilters, cursor: str | None) -> AuditPage:
        events = self.events(filters)
        if self.tenant is not None:
            return selectors.tenant_page(events=events, cursor=cursor)
        return selectors.vendor_page(events=events, cursor=cursor)

    def record_kwargs(self) -> dict[str, Any]:
        return {"vendor": self.vendor, "tenant": self.tenant}


def scope_for(
    request: HttpRequest, kind: str, public_id: UUID, *, admin: bool = False
) -> AuditScope:
    capability = (ADMIN if admin else READ)[kind]
    if kind == "tenant":
        tenant_access = tenant_for_user(request, public_id, capability)
        tenant = tenant_access.tenant
        return AuditScope(kind, tenant_access, tenant.vendor, tenant)
    vendor_access = vendor_for_user(request, public_id, capability)
    return AuditScope(kind, vendor_access, vendor_access.vendor, None)
