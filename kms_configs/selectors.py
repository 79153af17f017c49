"""Reads for pages: policy history and the proxies' status per tenant and config (with age).

Pages include ``kms_configs/_proxy_status.html`` with ``proxy_status =
tenant_proxy_status(tenant=...)`` in the context; it shows metadata only (states, versions,
canary results, error classes, counters), never config content, so it suits both the tenant's
dashboard and the vendor's tenant detail page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from kms_configs.models import ProxyHeartbeat, TenantPolicy
from tenants.models import Tenant

# Proxies report every 30 s (jittered); four missed reports make a replica's status stale.
STALE_AFTER_SECONDS = 120
MAX_REPLICAS_SHOWN = 50


@dataclass(frozen=True)
class ReplicaStatus:
    cluster_name: str
    cluster_id: str
    instance_id: str
    proxy_version: str
    ready: bool
    policy_version: int | None
    status: str
    rejection: str
    configs: list[dict[str, Any]]
    events: dict[str, int]
    received_at: datetime
    age_seconds: int

    @property
    def stale(self) -> bool:
        return self.age_seconds > STALE_AFTER_SECONDS


@dataclass(frozen=True)
class TenantProxyStatus:
    policy_version: int
    replicas: list[ReplicaStatus] = field(default_factory=list)

    @property
    def stale(self) -> bool:
        """True when no replica reported recently: nobody can vouch for the tenant's state."""
        return all(r.stale for r in self.replicas)

    @property
    def behind(self) -> list[ReplicaStatus]:
        """Fresh replicas that have not loaded the latest signed policy (yet)."""
        return [
            r
            for r in self.replicas
            if not r.stale and (r.policy_version or 0) < self.policy_version
        ]


def tenant_proxy_status(*, tenant: Tenant) -> TenantProxyStatus:
    now = timezone.now()
    rows = (
        ProxyHeartbeat.objects.filter(tenant=tenant)
        .select_related("cluster")
        .order_by("-received_at")[:MAX_REPLICAS_SHOWN]
    )
    replicas = [
        ReplicaStatus(
            cluster_name=row.cluster.name,
            cluster_id=row.cluster.cluster_id,
            instance_id=row.instance_id,
            proxy_version=row.proxy_version,
            ready=row.ready,
            policy_version=row.policy_version,
            status=row.status,
            rejection=row.rejection,
            configs=list(row.configs),
            events=dict(row.events),
            received_at=row.received_at,
            age_seconds=max(0, int((now - row.received_at).total_seconds())),
        )
        for row in rows
    ]
    return TenantProxyStatus(policy_version=tenant.policy_version, replicas=replicas)


def policy_history(*, tenant: Tenant) -> QuerySet[TenantPolicy]:
    """Every signed version, newest first, with who signed it."""
    return (
        TenantPolicy.objects.filter(tenant=tenant).select_related("signed_by").order_by("-version")
    )
