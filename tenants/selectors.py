"""Reads about tenants. Every query starts from the organisation (``vendor.tenants``)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from accounts.models import Invitation
from tenants.models import Tenant, TenantMembership, TenantStatus
from tenants.pagination import Cursor, TenantPage, paginate
from vendors.models import Vendor

PER_PAGE = 50


def tenant_page(
    *,
    vendor: Vendor,
    search: str = "",
    status: str = "",
    after: str | None = None,
    before: str | None = None,
    per_page: int = PER_PAGE,
) -> TenantPage:
    qs = vendor.tenants.all()
    search = search.strip()
    if search:
        qs = qs.filter(Q(tenant_id__icontains=search) | Q(name__icontains=search))
    if status in TenantStatus.values:
        qs = qs.filter(status=status)
    return paginate(qs, after=Cursor.decode(after), before=Cursor.decode(before), per_page=per_page)


def tenant_get_for_vendor(*, vendor: Vendor, public_id: UUID) -> Tenant:
    tenant = vendor.tenants.filter(public_id=public_id).first()
    if tenant is None:
        raise Http404("No such tenant.")
    return tenant


def tenant_count_by_status(*, vendor: Vendor) -> dict[str, int]:
    counts = {status: 0 for status in TenantStatus.values}
    for row in vendor.tenants.order_by().values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    return counts


def tenant_member_list(*, tenant: Tenant) -> QuerySet[TenantMembership]:
    return tenant.memberships.select_related("user").order_by("user__email")


def tenant_member_get(*, tenant: Tenant, user_public_id: UUID) -> TenantMembership:
    membership = (
        tenant.memberships.select_related("user").filter(user__public_id=user_public_id).first()
    )
    if membership is None:
        raise Http404("No such member.")
    return membership


def tenant_invitation_list(*, tenant: Tenant, issued_by: str) -> QuerySet[Invitation]:
    return tenant.invitations.filter(issued_by=issued_by).order_by("-created_at")


def tenant_invitation_get(*, tenant: Tenant, public_id: UUID, issued_by: str) -> Invitation:
    invitation = tenant.invitations.filter(public_id=public_id, issued_by=issued_by).first()
    if invitation is None:
        raise Http404("No such invitation.")
    return invitation


@dataclass(frozen=True)
class StatusStep:
    key: str
    label: str
    done: bool
    current: bool
    detail: str = ""


_ORDER = [
    TenantStatus.INVITED,
    TenantStatus.ACCEPTED,
    TenantStatus.ROOT_KEY_APPROVED,
    TenantStatus.ACTIVE,
]


def tenant_status_steps(*, tenant: Tenant) -> list[StatusStep]:
    """The onboarding progress shown on the tenant page (DESIGN.md §5a steps 3-5)."""
    reached = _ORDER.index(TenantStatus(tenant.status))
    details = {
        TenantStatus.ACTIVE: f"Policy version {tenant.policy_version}"
        if tenant.policy_version
        else "",
    }
    return [
        StatusStep(
            key=str(step),
            label=step.label,
            done=index <= reached,
            current=index == reached,
            detail=details.get(step, ""),
        )
        for index, step in enumerate(_ORDER)
    ]
