"""Reads about a user's organisations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse


@dataclass(frozen=True)
class OrganisationChoice:
    kind: str  # "vendor" or "tenant"
    public_id: str
    name: str
    role: str
    detail: str = ""

    @property
    def url(self) -> str:
        if self.kind == "vendor":
            return reverse("vendors:dashboard", kwargs={"vendor": self.public_id})
        return reverse("tenants:dashboard", kwargs={"tenant": self.public_id})


def organisation_list_for_user(*, user: Any) -> list[OrganisationChoice]:
    """Every organisation the user belongs to: two queries, whatever the number."""
    from tenants.models import TenantMembership
    from vendors.models import VendorMembership

    vendors = [
        OrganisationChoice("vendor", str(m.vendor.public_id), m.vendor.name, m.role, "Vendor")
        for m in VendorMembership.objects.filter(user=user)
        .select_related("vendor")
        .order_by("vendor__name")
    ]
    tenants = [
        OrganisationChoice(
            "tenant",
            str(m.tenant.public_id),
            m.tenant.name,
            m.role,
            f"Tenant of {m.tenant.vendor.name}",
        )
        for m in TenantMembership.objects.filter(user=user)
        .select_related("tenant", "tenant__vendor")
        .order_by("tenant__name")
    ]
    return vendors + tenants
