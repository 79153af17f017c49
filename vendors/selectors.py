"""Reads about vendors. Every query starts from the vendor."""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import Invitation
from vendors.models import Vendor, VendorMembership


def vendor_member_list(*, vendor: Vendor) -> QuerySet[VendorMembership]:
    return vendor.memberships.select_related("user").order_by("user__email")


def vendor_member_get(*, vendor: Vendor, user_public_id: UUID) -> VendorMembership:
    membership = (
        vendor.memberships.select_related("user", "vendor")
        .filter(user__public_id=user_public_id)
        .first()
    )
    if membership is None:
        raise Http404("No such member.")
    return membership


def vendor_invitation_list(*, vendor: Vendor, limit: int = 200) -> list[Invitation]:
    """Invitations this vendor issued: to its own admins and to its tenants' first admins."""
    qs = (
        vendor.invitations.filter(issued_by=Invitation.Kind.VENDOR)
        .select_related("tenant")
        .order_by("-created_at")
    )
    return list(qs[:limit])


def vendor_invitation_get(*, vendor: Vendor, public_id: UUID) -> Invitation:
    invitation = (
        vendor.invitations.filter(public_id=public_id, issued_by=Invitation.Kind.VENDOR)
        .select_related("vendor", "tenant")
        .first()
    )
    if invitation is None:
        raise Http404("No such invitation.")
    return invitation
