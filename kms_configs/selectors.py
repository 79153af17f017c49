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


@dataclass(frozen=True)
class TenantKmsSummary:
    """What a vendor may see of a tenant's configuration: metadata only, never content."""

    policy_version: int
    configs: list[dict[str, Any]]  # {"config_id", "provider", "state"}
    logging: bool
    leasing: bool
    clusters: list[str]
    last_report_age_seconds: int | None


def tenant_kms_summaries(*, tenants: list[Tenant]) -> dict[int, TenantKmsSummary]:
    """Per tenant pk, for vendor list and detail pages: two queries for any number of tenants."""
    from django.db.models import Max

    pks = [t.pk for t in tenants]
    payloads = dict(
        TenantPolicy.objects.filter(tenant_id__in=pks, current=True).values_list(
            "tenant_id", "payload"
        )
    )
    latest = dict(
        ProxyHeartbeat.objects.filter(tenant_id__in=pks)
        .values("tenant_id")
        .annotate(last=Max("received_at"))
        .values_list("tenant_id", "last")
    )
    now = timezone.now()
    out = {}
    for tenant in tenants:
        payload = payloads.get(tenant.pk, {})
        last = latest.get(tenant.pk)
        out[tenant.pk] = TenantKmsSummary(
            policy_version=int(payload.get("version", 0)),
            configs=[
                {k: e[k] for k in ("config_id", "provider", "state")}
                for e in payload.get("kms_configs", [])
            ],
            logging=bool(payload.get("logging")),
            leasing=bool(payload.get("leasing", {}).get("enabled")),
            clusters=list(payload.get("clusters", [])),
            last_report_age_seconds=None if last is None else int((now - last).total_seconds()),
        )
    return out
