"""The one chokepoint for tenant pages: outsiders get 404, members without the capability 403.

Vendor-side tenant pages go through ``vendors.access.vendor_for_user`` and then look the tenant
up inside that vendor (``tenants.selectors.tenant_get_for_vendor``).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from accounts.access import enforce_admin_policies
from accounts.roles import Capability, OrgKind, has_capability
from tenants.models import Tenant, TenantMembership


@dataclass(frozen=True)
class TenantAccess:
    tenant: Tenant
    membership: TenantMembership

    @property
    def is_admin(self) -> bool:
        return has_capability(
            OrgKind.TENANT, self.membership.role, Capability.TENANT_MANAGE_MEMBERS
        )


def tenant_for_user(request: HttpRequest, public_id: UUID, capability: Capability) -> TenantAccess:
    user = request.user
    if not user.is_authenticated:
        raise Http404
    membership = (
        TenantMembership.objects.select_related("tenant", "tenant__vendor")
        .filter(tenant__public_id=public_id, user=user)
        .first()
    )
    if membership is None:
        raise Http404("No such tenant.")
    if not has_capability(OrgKind.TENANT, membership.role, capability):
        raise PermissionDenied("Your role does not allow this.")
    tenant = membership.tenant
    enforce_admin_policies(
        request, capability=capability, mfa_required=tenant.vendor.require_tenant_admin_mfa
    )
    return TenantAccess(tenant=tenant, membership=membership)
