"""Bundle pages for proxies (docs/sync-protocol.md §2): snapshot and incremental, by cursor.

Cursors: ``c:<seq>`` (a change-log position) and ``s:<seq at snapshot start>:<last tenant pk>``
while paging a snapshot. Each page costs a constant number of queries whatever its size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max

from keyring.models import ClusterStatus, OrgRootKey, ProxyCluster, RootKeyStatus
from kms_configs.changes import latest_seq
from kms_configs.models import ChangeLog, PolicyCluster, SealedConfig, TenantPolicy


class CursorExpiredError(Exception):
    """The broker cannot serve changes since this cursor; the proxy starts a snapshot."""


@dataclass
class BundlePage:
    kind: str
    next_cursor: str
    has_more: bool
    tenants: list[dict[str, Any]] = field(default_factory=list)
    deleted_tenants: list[str] = field(default_factory=list)
    not_modified: bool = False

    @property
    def etag(self) -> str:
        return f'"{self.next_cursor}"'


def cluster_statements(vendor_pk: int) -> tuple[list[Any], list[Any]]:
    """(current proxy-cluster statements, every revocation) of the vendor: one query."""
    clusters, revocations = [], []
    rows = ProxyCluster.objects.filter(vendor_id=vendor_pk).select_related(
        "statement", "revocation"
    )
    for row in rows.order_by("pk"):
        if row.status == ClusterStatus.ACTIVE:
            clusters.append(row.statement.statement)
        elif row.revocation is not None:
            revocations.append(row.revocation.statement)
    return clusters, revocations


def tenant_bundles(tenant_pks: Iterable[int]) -> list[dict[str, Any]]:
    """Current bundles of the given tenants (three queries), in the order given."""
    pks = list(tenant_pks)
    policies = {
        p.tenant_id: p
        for p in TenantPolicy.objects.filter(tenant_id__in=pks, current=True).select_related(
            "tenant"
        )
    }
    roots = {
        r.tenant_id: r.statement.statement
        for r in OrgRootKey.objects.filter(
            tenant_id__in=pks, status=RootKeyStatus.APPROVED
        ).select_related("statement")
        if r.statement is not None
    }
    blobs: dict[int, dict[int, Any]] = {}
    for row in SealedConfig.objects.filter(tenant_id__in=pks, current=True).only(
        "tenant_id", "config_id", "sealed"
    ):
        blobs.setdefault(row.tenant_id, {})[row.config_id] = row.sealed
    out = []
    for pk in pks:
        policy, root = policies.get(pk), roots.get(pk)
        if policy is None or root is None:
            continue
        out.append(
            {
                "tenant_id": policy.tenant.tenant_id,
                "tenant_root": root,
                "policy": policy.statement,
                "sealed_configs": _named_blobs(policy.payload, blobs.get(pk, {})),
            }
        )
    return out


def _named_blobs(payload: dict[str, Any], blobs: dict[int, Any]) -> list[Any]:
    """Blobs of the configs in use and of the logging config (§2.1: disabled ones omitted)."""
    ids = [
        e["config_id"]
        for e in payload.get("kms_configs", [])
        if e["state"] in ("primary", "active")
    ]
    if payload.get("logging"):
        ids.append(payload["logging"]["config_id"])
    return [blobs[i] for i in ids if i in blobs]


def snapshot_page(
    *, vendor_pk: int, cluster_id: str, start_seq: int | None, after_pk: int, limit: int
) -> BundlePage:
    seq = latest_seq(vendor_pk) if start_seq is None else start_seq
    pks = list(
        PolicyCluster.objects.filter(cluster_id=cluster_id, current=True, tenant_id__gt=after_pk)
        .order_by("tenant_id")
        .values_list("tenant_id", flat=True)[: limit + 1]
    )
    has_more = len(pks) > limit
    pks = pks[:limit]
    cursor = f"s:{seq}:{pks[-1]}" if has_more else f"c:{seq}"
    return BundlePage("snapshot", cursor, has_more, tenants=tenant_bundles(pks))


def changes_page(
    *, vendor_pk: int, cluster_id: str, since: int, limit: int, if_none_match: str | None
) -> BundlePage:
    etag = f'"c:{since}"'
    if if_none_match == etag and latest_seq(vendor_pk) <= since:
        return BundlePage("changes", f"c:{since}", False, not_modified=True)
    rows = list(
        ChangeLog.objects.filter(vendor_id=vendor_pk, id__gt=since)
        .order_by("id")
        .values_list("id", "tenant_id", "tenant_ref")[: limit + 1]
    )
    if not rows:
        top = ChangeLog.objects.filter(vendor_id=vendor_pk).aggregate(top=Max("id"))["top"]
        if since > (top or 0):  # a cursor from the future: e.g. the database was restored
            raise CursorExpiredError
        return BundlePage("changes", f"c:{since}", False, not_modified=if_none_match == etag)
    has_more = len(rows) > limit
    rows = rows[:limit]
    touched = {pk: ref for _, pk, ref in rows if pk is not None}
    if has_more:
        # A tenant that changes again on a later page is sent there, once, in its newer state.
        later = ChangeLog.objects.filter(
            vendor_id=vendor_pk, id__gt=rows[-1][0], tenant_id__in=list(touched)
        ).values_list("tenant_id", flat=True)
        for pk in set(later):
            touched.pop(pk, None)
    served = set(
        PolicyCluster.objects.filter(
            cluster_id=cluster_id, current=True, tenant_id__in=list(touched)
        ).values_list("tenant_id", flat=True)
    )
    bundles = tenant_bundles(sorted(served))
    live = {b["tenant_id"] for b in bundles}
    deleted = sorted({ref for pk, ref in touched.items() if pk not in served and ref not in live})
    return BundlePage("changes", f"c:{rows[-1][0]}", has_more, bundles, deleted)
