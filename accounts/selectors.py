"""Reads about a user's organisations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OrganisationChoice:
    kind: str  # "vendor" or "tenant"
    public_id: str
    name: str
    role: str


def organisation_list_for_user(*, user: Any) -> list[OrganisationChoice]:
    from tenants.models import TenantMembership
    from vendors.models import VendorMembership

    vendors = [
        OrganisationChoice("vendor", str(m.vendor.public_id), m.vendor.name, m.role)
        for m in VendorMembership.objects.filter(user=user).select_related("vendor").order_by("vendor__name")
    ]
    tenants = [
        OrganisationChoice("tenant", str(m.tenant.public_id), m.tenant.name, m.role)
        for m in TenantMembership.objects.filter(user=user).select_related("tenant").order_by("tenant__name")
    ]
    return vendors + tenants
