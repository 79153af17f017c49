"""The one chokepoint for vendor pages: outsiders get 404, members without the capability 403."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from accounts.access import enforce_admin_policies
from accounts.roles import Capability, OrgKind, has_capability
from vendors.models import Vendor, VendorMembership


@dataclass(frozen=True)
class VendorAccess:
    vendor: Vendor
    membership: VendorMembership

    @property
    def is_admin(self) -> bool:
        return has_capability(
            OrgKind.VENDOR, self.membership.role, Capability.VENDOR_MANAGE_TENANTS
        )


def vendor_for_user(request: HttpRequest, public_id: UUID, capability: Capability) -> VendorAccess:
    user = request.user
    if not user.is_authenticated:
        raise Http404  # views are behind login_required; this is defence in depth
    membership = (
        VendorMembership.objects.select_related("vendor")
        .filter(vendor__public_id=public_id, user=user)
        .first()
    )
    if membership is None:
        # Same answer for "does not exist" and "not yours": no probing for vendor ids (Z-01).
        raise Http404("No such vendor.")
    if not has_capability(OrgKind.VENDOR, membership.role, capability):
        raise PermissionDenied("Your role does not allow this.")
    # Vendor admins always need a second factor before any admin action.
    enforce_admin_policies(request, capability=capability, mfa_required=True)
    return VendorAccess(vendor=membership.vendor, membership=membership)
