"""Reads of the keyring, always scoped to a user or an organisation first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from keyring.models import (
    ClusterStatus,
    OrgRootKey,
    ProxyCluster,
    RootKeyShare,
    RootKeyStatus,
    Statement,
    StatementType,
    UserKey,
)
from tenants.models import Tenant, TenantMembership
from vendors.models import Role, Vendor, VendorMembership


def user_key_get(*, user: Any) -> UserKey | None:
    return UserKey.objects.filter(user=user).first()


def vendor_admin_list(*, vendor: Vendor) -> QuerySet[VendorMembership]:
    return vendor.memberships.filter(role=Role.ADMIN).select_related("user")


def tenant_admin_list(*, tenant: Tenant) -> QuerySet[TenantMembership]:
    return tenant.memberships.filter(role=Role.ADMIN).select_related("user")


def is_org_admin(*, root: OrgRootKey, user: Any) -> bool:
    org = root.vendor or root.tenant  # exactly one is set (constraint root_key_one_org)
    return org is not None and org.memberships.filter(user=user, role=Role.ADMIN).exists()


def vendor_root_get(*, vendor: Vendor) -> OrgRootKey | None:
    return OrgRootKey.objects.filter(vendor=vendor).first()


def tenant_root_get(*, tenant: Tenant) -> OrgRootKey | None:
    return OrgRootKey.objects.filter(tenant=tenant).select_related("statement").first()


def root_share_get(*, root: OrgRootKey, user: Any) -> RootKeyShare | None:
    return root.shares.filter(recipient=user).first()


@dataclass(frozen=True)
class PendingShare:
    """An admin who has a user key but no sealed copy of the organisation's root key yet."""

    user_public_id: str
    email: str
    user_kid: str
    encryption_public: str


def pending_share_list(*, root: OrgRootKey) -> list[PendingShare]:
    memberships = (
        root.vendor.memberships if root.vendor_id is not None else root.tenant.memberships  # type: ignore[union-attr]
    )
    shared = root.shares.values_list("recipient_id", flat=True)
    admins = (
        memberships.filter(role=Role.ADMIN, user__user_key__isnull=False)
        .exclude(user_id__in=shared)
        .select_related("user__user_key")
        .order_by("user__email")
    )
    return [
        PendingShare(
            str(m.user.public_id),
            m.user.email,
            m.user.user_key.kid,
            m.user.user_key.encryption_public,
        )
        for m in admins
    ]


def pending_tenant_root_list(*, vendor: Vendor) -> QuerySet[OrgRootKey]:
    return (
        OrgRootKey.objects.filter(tenant__vendor=vendor, status=RootKeyStatus.PENDING_APPROVAL)
        .select_related("tenant", "created_by")
        .order_by("created_at")
    )


def cluster_list(*, vendor: Vendor) -> QuerySet[ProxyCluster]:
    return vendor.proxy_clusters.order_by("status", "name")


def cluster_get(*, vendor: Vendor, public_id: Any) -> ProxyCluster | None:
    return vendor.proxy_clusters.filter(public_id=public_id).first()


def active_cluster_statements(*, vendor: Vendor) -> QuerySet[Statement]:
    """The vendor's current ``proxy-cluster`` statements (for sync bundles)."""
    ids = vendor.proxy_clusters.filter(status=ClusterStatus.ACTIVE).values("statement_id")
    return Statement.objects.filter(pk__in=ids)


def revocation_statements(*, vendor: Vendor) -> QuerySet[Statement]:
    return vendor.statements.filter(type=StatementType.PROXY_CLUSTER_REVOCATION)
