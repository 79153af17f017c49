"""Tenant KMS configuration pages: configs with their proxy status, and the policy history.

The pages render metadata only (labels, providers, states, digests, who signed); config
contents are sealed in the browser and never reach the broker in the clear. Adding a config
happens in the page module (static/js/pages/kms_configs/configs.mjs), which posts to
``kms_configs.page_api``. Every view is audited, like the other tenant configuration pages.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from audit.services import record_view
from keyring import access, selectors
from keyring.models import ClusterStatus, OrgRootKey, ProxyCluster, RootKeyStatus
from keyring.pages import crypto_page
from keyring.views import _unlock_data
from kms_configs.forms import LOGGING_PROVIDERS, PROVIDERS, logging_form_data, provider_form_data
from kms_configs.models import SealedConfig, TenantPolicy
from kms_configs.selectors import policy_history, tenant_proxy_status
from opencmk_crypto import b64d, fingerprint, kid
from tenants.models import Tenant


def _labels(tenant: Tenant) -> dict[int, SealedConfig]:
    return {s.config_id: s for s in SealedConfig.objects.filter(tenant=tenant, current=True)}


def _last_reports(tenant: Tenant) -> dict[int, str]:
    """Per config id, what the most recent proxy report said about it."""
    out: dict[int, str] = {}
    for replica in tenant_proxy_status(tenant=tenant).replicas:  # newest first
        for config in replica.configs:
            cid = config.get("config_id")
            if isinstance(cid, int) and cid not in out:
                error = config.get("last_kms_error")
                out[cid] = (
                    f"{config.get('state', '?')}, canary {config.get('canary', '?')}"
                    + (f", last error {error}" if error else "")
                    + f" ({replica.cluster_name}, {replica.age_seconds} s ago)"
                )
    return out


def config_rows(tenant: Tenant, payload: dict[str, Any]) -> list[dict[str, Any]]:
    blobs, reports = _labels(tenant), _last_reports(tenant)
    rows = []
    for entry in payload.get("kms_configs", []):
        cid = entry["config_id"]
        blob = blobs.get(cid)
        rows.append(
            {
                "config_id": cid,
                "label": blob.label if blob else "",
                "provider": entry["provider"],
                "state": entry["state"],
                "digest": entry["content_digest"],
                "proxy": reports.get(cid, "no proxy report yet"),
            }
        )
    return rows


def _logging_row(tenant: Tenant, payload: dict[str, Any]) -> dict[str, Any] | None:
    entry = payload.get("logging")
    if not entry:
        return None
    blob = SealedConfig.objects.filter(
        tenant=tenant, config_id=entry["config_id"], current=True
    ).first()
    return {
        "config_id": entry["config_id"],
        "label": blob.label if blob else "",
        "provider": blob.provider if blob else "",
    }


def _cluster_data(cluster: ProxyCluster) -> dict[str, Any]:
    return {
        "cluster_id": cluster.cluster_id,
        "name": cluster.name,
        "encryption_public": cluster.encryption_public,
        "fingerprint": fingerprint(kid(b64d(cluster.signing_public))),
        # The vendor-signed proxy-cluster statement: the browser seals only to the encryption
        # key it names, never to the row's (docs/threat-model.md T2).
        "statement": cluster.statement.statement,
    }


def trust_data(tenant: Tenant, root: OrgRootKey | None) -> dict[str, Any]:
    """What the browser needs to check recipient keys itself: the tenant's approved
    ``tenant-root`` statement and the vendor root signing key as the broker claims it."""
    vendor_root = OrgRootKey.objects.filter(vendor_id=tenant.vendor_id).first()
    statement = root.statement if root is not None else None
    return {
        "vendor_root_public": vendor_root.signing_public if vendor_root else None,
        "tenant_root_statement": statement.statement if statement is not None else None,
    }


def recipient_clusters(tenant: Tenant, payload: dict[str, Any]) -> list[ProxyCluster]:
    """The clusters new configs are sealed to: the current policy's, or, before the first
    policy, every active cluster of the vendor (listed with fingerprints on the page)."""
    active = ProxyCluster.objects.filter(
        vendor_id=tenant.vendor_id, status=ClusterStatus.ACTIVE
    ).select_related("statement")
    if payload:
        return list(active.filter(cluster_id__in=payload.get("clusters", [])))
    return list(active.order_by("name"))


def pending_clusters(tenant: Tenant, payload: dict[str, Any]) -> list[ProxyCluster]:
    """Active clusters of the vendor that the tenant's policy does not allow (yet)."""
    if not payload:
        return []  # the first policy is sealed to every active cluster
    active = ProxyCluster.objects.filter(
        vendor_id=tenant.vendor_id, status=ClusterStatus.ACTIVE
    ).select_related("statement")
    return list(active.exclude(cluster_id__in=payload.get("clusters", [])).order_by("name"))


def current_blobs(tenant: Tenant, payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The sealed blobs the policy names (ciphertext), for adding a cluster as a recipient."""
    named = [e["config_id"] for e in payload.get("kms_configs", [])]
    if payload.get("logging"):
        named.append(payload["logging"]["config_id"])
    rows = SealedConfig.objects.filter(tenant=tenant, config_id__in=named, current=True)
    return {str(s.config_id): {"sealed": s.sealed, "label": s.label} for s in rows}


@login_required
@require_GET
@crypto_page
def configs(request: HttpRequest, public_id: UUID) -> HttpResponse:
    acc = access.tenant_viewer(request, public_id)
    tenant = acc.tenant
    record_view(request, action="kms_configs.viewed", vendor=None, tenant=tenant)
    policy = TenantPolicy.objects.filter(tenant=tenant, current=True).first()
    payload = dict(policy.payload) if policy else {}
    root = selectors.tenant_root_get(tenant=tenant)
    clusters = [_cluster_data(c) for c in recipient_clusters(tenant, payload)]
    pending = [_cluster_data(c) for c in pending_clusters(tenant, payload)]
    data = _unlock_data(request, root)
    data.update(
        is_admin=acc.is_admin,
        tenant_id=tenant.tenant_id,
        vendor_id=str(tenant.vendor.public_id),
        policy=payload or None,
        clusters=clusters,
        pending_clusters=pending,
        **trust_data(tenant, root),
        sealed=current_blobs(tenant, payload) if acc.is_admin else {},
        providers=provider_form_data(),
        logging_providers=logging_form_data(),
        config_id_url=reverse("kms_configs_pages:api_config_id", args=[public_id]),
        policy_url=reverse("kms_configs_pages:api_policy", args=[public_id]),
    )
    context = {
        "tenant": tenant,
        "access": acc,
        "root": root,
        "policy": policy,
        "rows": config_rows(tenant, payload),
        "can_sign": acc.is_admin and root is not None and root.status == RootKeyStatus.APPROVED,
        "clusters": clusters,
        "pending_clusters": pending,
        "providers": list(PROVIDERS.values()),
        "logging_providers": list(LOGGING_PROVIDERS.values()),
        "logging": _logging_row(tenant, payload),
        "leasing": payload.get("leasing") or {"enabled": False, "max_age_s": 3600},
        "proxy_status": tenant_proxy_status(tenant=tenant),
        "data": data,
        "section": "kms",
    }
    return render(request, "kms_configs/configs.html", context)


def _entries(payload: dict[str, Any] | None) -> dict[int, dict[str, Any]]:
    return {e["config_id"]: e for e in (payload or {}).get("kms_configs", [])}


def policy_changes(
    before: dict[str, Any] | None, after: dict[str, Any], labels: dict[int, str]
) -> list[str]:
    """What one signed version changed against the previous one, for people."""

    def name(cid: int) -> str:
        return f"#{cid}" + (f" {labels[cid]!r}" if labels.get(cid) else "")

    old, new = _entries(before), _entries(after)
    changes = [
        f"added KMS config {name(c)} ({new[c]['provider']}, {new[c]['state']})"
        for c in new
        if c not in old
    ]
    changes += [f"removed KMS config {name(c)}" for c in old if c not in new]
    for cid in new.keys() & old.keys():
        if new[cid]["state"] != old[cid]["state"]:
            changes.append(f"{name(cid)}: {old[cid]['state']} → {new[cid]['state']}")
        if new[cid]["content_digest"] != old[cid]["content_digest"]:
            changes.append(f"{name(cid)}: content or recipients re-sealed")
    changes += _other_changes(before or {}, after)
    return changes or ["no change (re-signed)"]


def _other_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    changes = []
    if before.get("logging") != after.get("logging"):
        changes.append("logging config " + ("set" if after.get("logging") else "removed"))
    was = bool((before.get("leasing") or {}).get("enabled"))
    now = bool((after.get("leasing") or {}).get("enabled"))
    if was != now:
        changes.append("key leasing " + ("enabled" if now else "disabled"))
    old_c, new_c = set(before.get("clusters", [])), set(after.get("clusters", []))
    changes += [f"allowed cluster {c}" for c in sorted(new_c - old_c)]
    changes += [f"removed cluster {c}" for c in sorted(old_c - new_c)]
    return changes


@login_required
@require_GET
def history(request: HttpRequest, public_id: UUID) -> HttpResponse:
    acc = access.tenant_viewer(request, public_id)
    tenant = acc.tenant
    record_view(request, action="tenant_policy_history.viewed", vendor=None, tenant=tenant)
    labels = dict(
        SealedConfig.objects.filter(tenant=tenant)
        .exclude(label="")
        .values_list("config_id", "label")
    )
    versions = list(policy_history(tenant=tenant))
    items = []
    for index, policy in enumerate(versions):
        previous = versions[index + 1].payload if index + 1 < len(versions) else None
        items.append(
            {
                "version": policy.version,
                "signed_by": policy.signed_by.email if policy.signed_by else "(deleted user)",
                "signer": fingerprint(policy.signer_kid),
                "created_at": policy.created_at,
                "changes": policy_changes(previous, policy.payload, labels),
            }
        )
    context = {"tenant": tenant, "access": acc, "versions": items, "section": "kms"}
    return render(request, "kms_configs/history.html", context)


VENDOR_PAGE_SIZE = 50


@login_required
@require_GET
def vendor_overview(request: HttpRequest, vendor: UUID) -> HttpResponse:
    """Per tenant: providers, states, policy version, last proxy report — metadata only."""
    from django.core.paginator import Paginator

    from accounts.roles import Capability
    from kms_configs.selectors import tenant_kms_summaries
    from vendors.access import vendor_for_user

    acc = vendor_for_user(request, vendor, Capability.VENDOR_VIEW)
    tenants = Tenant.objects.filter(vendor=acc.vendor).order_by("tenant_id")
    page = Paginator(tenants, VENDOR_PAGE_SIZE).get_page(request.GET.get("page"))
    record_view(
        request,
        action="tenant_kms_overview.viewed",
        vendor=acc.vendor,
        data={"page": page.number},
    )
    items = list(page.object_list)
    summaries = tenant_kms_summaries(tenants=items)
    rows = [{"tenant": t, "summary": summaries[t.pk]} for t in items]
    context = {"vendor": acc.vendor, "access": acc, "rows": rows, "page": page}
    return render(request, "kms_configs/vendor_overview.html", context)
