"""Which capability each keyring page needs, resolved through the organisation chokepoints.

Outsiders get 404 and members without the capability 403 from ``vendors.access`` and
``tenants.access``; this module only names the capabilities, in one place.
"""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest

from accounts.roles import Capability
from tenants.access import TenantAccess, tenant_for_user
from vendors.access import VendorAccess, vendor_for_user

# Vendor: admin, MFA required. Tenant: admin, MFA and recent re-authentication on POST.
VENDOR_KEYS_VIEW = Capability.VENDOR_VIEW
VENDOR_KEYS_MANAGE = Capability.VENDOR_MANAGE_KEYS
TENANT_KEYS_VIEW = Capability.TENANT_VIEW
TENANT_KEYS_MANAGE = Capability.TENANT_MANAGE_KEYS


def vendor_viewer(request: HttpRequest, public_id: UUID) -> VendorAccess:
    return vendor_for_user(request, public_id, VENDOR_KEYS_VIEW)


def vendor_admin(request: HttpRequest, public_id: UUID) -> VendorAccess:
    return vendor_for_user(request, public_id, VENDOR_KEYS_MANAGE)


def tenant_viewer(request: HttpRequest, public_id: UUID) -> TenantAccess:
    return tenant_for_user(request, public_id, TENANT_KEYS_VIEW)


def tenant_admin(request: HttpRequest, public_id: UUID) -> TenantAccess:
    return tenant_for_user(request, public_id, TENANT_KEYS_MANAGE)
