"""Keyring pages. They render public data and ciphertext; all key work happens in the page's
ES module (static/js/pages/keyring/), which posts results to keyring.api."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from keyring import access, selectors, services
from keyring.models import OrgRootKey, ProxyCluster
from keyring.pages import crypto_page
from opencmk_crypto import (
    MEMLIMIT_INTERACTIVE,
    MEMLIMIT_MODERATE,
    OPSLIMIT_INTERACTIVE,
    OPSLIMIT_MODERATE,
    b64d,
    fingerprint,
    kid,
)


def _root_data(root: OrgRootKey | None) -> dict[str, Any] | None:
    if root is None:
        return None
    return {
        "kid": root.kid,
        "fingerprint": fingerprint(root.kid),
        "signing_public": root.signing_public,
        "encryption_public": root.encryption_public,
        "status": root.status,
    }


def _unlock_data(request: HttpRequest, root: OrgRootKey | None) -> dict[str, Any]:
    """What the browser needs to unlock the user key and, with it, the root share."""
    key = selectors.user_key_get(user=request.user)
    share = selectors.root_share_get(root=root, user=request.user) if root else None
    return {
        "csrf_token": get_token(request),
        "user_key": {
            "kid": key.kid,
            "encryption_public": key.encryption_public,
            "wrapped_secret": key.wrapped_secret,
        }
        if key
        else None,
        "share": {"recipient_kid": share.recipient_kid, "sealed_secret": share.sealed_secret}
        if share
        else None,
        "root": _root_data(root),
        "user_key_url": reverse("keyring:user_key"),
        # How long an unlocked key may sit unused in the page before it is wiped.
        "idle_ms": 1000 * int(getattr(settings, "OPENCMK_KEY_IDLE_SECONDS", 600)),
    }


def _pending_shares(root: OrgRootKey | None, can_share: bool) -> list[dict[str, str]]:
    if root is None or not can_share:
        return []
    return [
        {**vars(p), "fingerprint": fingerprint(p.user_kid)}
        for p in selectors.pending_share_list(root=root)
    ]


def argon2_params() -> dict[str, int]:
    """Argon2id costs for new blobs: MODERATE (DESIGN.md §2) unless settings say otherwise
    (browser tests use INTERACTIVE; the costs travel with each blob either way)."""
    if getattr(settings, "OPENCMK_KEY_ARGON2_LEVEL", "moderate") == "interactive":
        return {"opslimit": OPSLIMIT_INTERACTIVE, "memlimit": MEMLIMIT_INTERACTIVE}
    return {"opslimit": OPSLIMIT_MODERATE, "memlimit": MEMLIMIT_MODERATE}


@login_required
@require_GET
@crypto_page
def user_key(request: HttpRequest) -> HttpResponse:
    data = _unlock_data(request, None)
    data["create_url"] = reverse("keyring:api_user_key_create")
    data["passphrase_url"] = reverse("keyring:api_user_key_passphrase")
    data["argon2"] = argon2_params()
    data["delete_url"] = reverse("keyring:api_user_key_delete")
    key = data["user_key"]
    context = {
        "data": data,
        "fingerprint": fingerprint(key["kid"]) if key else None,
        "sole_roots": services.sole_holder_roots(user=request.user) if key else [],
    }
    return render(request, "keyring/user_key.html", context)


@login_required
@require_GET
@crypto_page
def vendor_keys(request: HttpRequest, public_id: UUID) -> HttpResponse:
    acc = access.vendor_viewer(request, public_id)
    root = selectors.vendor_root_get(vendor=acc.vendor)
    data = _unlock_data(request, root)
    holds_share = data["share"] is not None
    data.update(
        is_admin=acc.is_admin,
        vendor_id=str(acc.vendor.public_id),
        pending_shares=_pending_shares(root, acc.is_admin and holds_share),
        root_url=reverse("keyring:api_vendor_root", args=[public_id]),
        share_url=reverse("keyring:api_vendor_share", args=[public_id]),
    )
    context = {"vendor": acc.vendor, "access": acc, "root": data["root"], "data": data}
    return render(request, "keyring/vendor_keys.html", context)


@login_required
@require_GET
@crypto_page
def tenant_keys(request: HttpRequest, public_id: UUID) -> HttpResponse:
    acc = access.tenant_viewer(request, public_id)
    root = selectors.tenant_root_get(tenant=acc.tenant)
    data = _unlock_data(request, root)
    data.update(
        is_admin=acc.is_admin,
        tenant_id=acc.tenant.tenant_id,
        pending_shares=_pending_shares(root, acc.is_admin and data["share"] is not None),
        root_url=reverse("keyring:api_tenant_root", args=[public_id]),
        share_url=reverse("keyring:api_tenant_share", args=[public_id]),
    )
    context = {"tenant": acc.tenant, "access": acc, "root": data["root"], "data": data}
    return render(request, "keyring/tenant_keys.html", context)


@login_required
@require_GET
@crypto_page
def tenant_root_approvals(request: HttpRequest, public_id: UUID) -> HttpResponse:
    acc = access.vendor_admin(request, public_id)
    root = selectors.vendor_root_get(vendor=acc.vendor)
    pending = [
        {
            "public_id": str(r.public_id),
            "tenant_id": r.tenant.tenant_id,  # type: ignore[union-attr]
            "tenant_name": r.tenant.name,  # type: ignore[union-attr]
            "created_by": r.created_by.email if r.created_by else "",
            "created_at": r.created_at.isoformat(),
            "approve_url": reverse(
                "keyring:api_tenant_root_approve", args=[public_id, r.public_id]
            ),
            **(_root_data(r) or {}),
        }
        for r in selectors.pending_tenant_root_list(vendor=acc.vendor)
    ]
    data = _unlock_data(request, root)
    data.update(vendor_id=str(acc.vendor.public_id), pending=pending)
    context = {"vendor": acc.vendor, "access": acc, "pending": pending, "data": data}
    return render(request, "keyring/approvals.html", context)


def _cluster_data(
    vendor_id: UUID, cluster: ProxyCluster, root: OrgRootKey | None
) -> dict[str, Any]:
    return {
        "public_id": str(cluster.public_id),
        "cluster_id": cluster.cluster_id,
        "name": cluster.name,
        "status": cluster.status,
        # The kid ``keygen`` printed, for comparing with the proxy operator out of band.
        "fingerprint": fingerprint(kid(b64d(cluster.signing_public))),
        "revoke_url": reverse("keyring:api_cluster_revoke", args=[vendor_id, cluster.public_id]),
        "environment": proxy_environment(cluster, root),
    }


def proxy_environment(cluster: ProxyCluster, root: OrgRootKey | None) -> str:
    """The public part of a proxy's environment (DESIGN.md §6.1); the private keys come from
    ``keygen`` and never pass through the broker."""
    lines = [
        f"TSP_BROKER_URL={settings.SITE_URL}",
        f"TSP_CLUSTER_ID={cluster.cluster_id}",
        f"TSP_VENDOR_ROOT_KEY={root.signing_public if root else ''}",
        "TSP_CLUSTER_SIGNING_KEY=<from keygen, private>",
        "TSP_CLUSTER_ENCRYPTION_KEY=<from keygen, private>",
    ]
    return "\n".join(lines)


@login_required
@require_GET
@crypto_page
def clusters(request: HttpRequest, public_id: UUID) -> HttpResponse:
    acc = access.vendor_viewer(request, public_id)
    root = selectors.vendor_root_get(vendor=acc.vendor)
    items = [_cluster_data(public_id, c, root) for c in selectors.cluster_list(vendor=acc.vendor)]
    data = _unlock_data(request, root)
    data.update(
        is_admin=acc.is_admin,
        vendor_id=str(acc.vendor.public_id),
        register_url=reverse("keyring:api_cluster_register", args=[public_id]),
        clusters=items,
    )
    context = {
        "vendor": acc.vendor,
        "access": acc,
        "clusters": items,
        "root": data["root"],
        "data": data,
    }
    return render(request, "keyring/clusters.html", context)
