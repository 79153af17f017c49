"""Request-signature authentication of proxies (docs/sync-protocol.md §1).

A plain view decorator: it runs on every poll of every proxy, so it avoids DRF's machinery and
caches the cluster's public key (invalidated on commit of a registration or revocation, see
changes.py), so an unchanged poll costs no query for authentication.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import nacl.exceptions
import nacl.signing
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from audit.actors import Actor
from audit.services import record
from keyring.models import ClusterStatus, ProxyCluster
from kms_configs.changes import cache_is_shared, cluster_cache_key
from vendors.models import Vendor

SKEW_SECONDS = 60
NONCE_SECONDS = 2 * SKEW_SECONDS
CLUSTER_CACHE_SECONDS = 300
POLL_AUDIT_SECONDS = 60
REFUSAL_AUDIT_SECONDS = 10
DOMAIN = b"OpenCMK/1/proxy-request"
_NONCE_RE = re.compile(r"[0-9a-f]{32}")
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class ProxyIdentity:
    """The authenticated cluster; ``vendor`` is an unsaved stand-in (pk and public_id only)."""

    cluster_pk: int
    cluster_id: str
    vendor: Vendor
    signing_public: bytes
    active: bool

    @property
    def actor(self) -> Actor:
        return Actor.proxy_cluster(self.cluster_id)


class ProxyAuthError(Exception):
    def __init__(self, reason: str, identity: ProxyIdentity | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.identity = identity


def cluster_identity(cluster_id: str) -> ProxyIdentity | None:
    if not 0 < len(cluster_id) <= 64:
        return None
    shared = cache_is_shared()
    cached = cache.get(cluster_cache_key(cluster_id)) if shared else None
    if cached is None:
        row = (
            ProxyCluster.objects.filter(cluster_id=cluster_id)
            .values("pk", "vendor_id", "vendor__public_id", "signing_public", "status")
            .first()
        )
        if row is None:
            return None
        cached = (
            row["pk"],
            row["vendor_id"],
            str(row["vendor__public_id"]),
            row["signing_public"],
            row["status"] == ClusterStatus.ACTIVE,
        )
        if shared:
            cache.set(cluster_cache_key(cluster_id), cached, CLUSTER_CACHE_SECONDS)
    pk, vendor_pk, vendor_public, signing, active = cached
    return ProxyIdentity(
        pk,
        cluster_id,
        Vendor(pk=vendor_pk, public_id=vendor_public),
        base64.b64decode(signing),
        active,
    )


def raw_path(request: HttpRequest) -> str:
    """The path and query exactly as on the request line (gunicorn: RAW_URI)."""
    return str(request.META.get("RAW_URI") or request.get_full_path())


def signed_bytes(request: HttpRequest, cluster_id: str, timestamp: str, nonce: str) -> bytes:
    body = request.body
    digest = hashlib.sha256(body).hexdigest() if body else _EMPTY_SHA256
    parts = [request.method or "", raw_path(request), cluster_id, timestamp, nonce, digest]
    return DOMAIN + b"\n" + "\n".join(parts).encode()


def authenticate(request: HttpRequest) -> ProxyIdentity:
    """The four checks of §1 in the doc's order; raises ProxyAuthError(reason)."""
    headers = request.headers
    cluster_id = headers.get("X-OpenCMK-Cluster", "")
    identity = cluster_identity(cluster_id)
    if identity is None:
        raise ProxyAuthError("unknown_cluster")
    if not identity.active:
        raise ProxyAuthError("revoked_cluster", identity)
    timestamp = headers.get("X-OpenCMK-Timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > SKEW_SECONDS:
        raise ProxyAuthError("stale_signature", identity)
    nonce = headers.get("X-OpenCMK-Nonce", "")
    try:
        signature = base64.b64decode(headers.get("X-OpenCMK-Signature", ""), validate=True)
        nacl.signing.VerifyKey(identity.signing_public).verify(
            signed_bytes(request, cluster_id, timestamp, nonce), signature
        )
    except (nacl.exceptions.BadSignatureError, ValueError, TypeError):
        raise ProxyAuthError("bad_signature", identity) from None
    if not _NONCE_RE.fullmatch(nonce) or not cache.add(
        f"kms_configs:nonce:{identity.cluster_id}:{nonce}", 1, NONCE_SECONDS
    ):
        raise ProxyAuthError("replayed_request", identity)
    return identity


def error_response(status: int, error: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": error, "detail": detail}, status=status)


def audit_request(
    request: HttpRequest,
    identity: ProxyIdentity | None,
    *,
    status: int,
    outcome: str = "success",
    tenant: Any = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """The ``proxy.request`` event of §1 step 5, in its own short transaction."""
    cluster_id = identity.cluster_id if identity else request.headers.get("X-OpenCMK-Cluster", "")
    with transaction.atomic():
        record(
            action="proxy.request",
            actor=Actor.proxy_cluster(cluster_id[:100]),
            vendor=identity.vendor if identity else None,
            tenant=tenant,
            target=request.path[:200],
            outcome=outcome,
            data={"method": request.method, "path": request.path[:200], "status": status}
            | (extra or {}),
        )


def audit_poll(request: HttpRequest, identity: ProxyIdentity, *, status: int) -> None:
    """Successful bundle polls (200 and 304) are summarised: one ``proxy.request`` event per
    cluster per ``POLL_AUDIT_SECONDS`` carrying the counts since the previous one.

    Fifty replicas polling every 2 s would otherwise append 25 events a second to the vendor's
    chain, serialised on its head row: that lock, not the work, bounded propagation in
    bench/sync_propagation.py. Failures, secrets and heartbeats keep their own events.
    """
    key = f"kms_configs:polls:{identity.cluster_id}"
    if not cache.add(key, 1, POLL_AUDIT_SECONDS):
        try:
            cache.incr(f"{key}:{status}")
        except ValueError:  # first count of this status in the window
            if not cache.add(f"{key}:{status}", 1, 2 * POLL_AUDIT_SECONDS):
                cache.incr(f"{key}:{status}")
        return
    counters = [f"{key}:200", f"{key}:304"]
    counts = cache.get_many(counters)
    cache.delete_many(counters)
    audit_request(
        request,
        identity,
        status=status,
        extra={
            "summary_seconds": POLL_AUDIT_SECONDS,
            "earlier_polls_200": int(counts.get(counters[0], 0)),
            "earlier_polls_304": int(counts.get(counters[1], 0)),
        },
    )


def _audit_refusal(request: HttpRequest, exc: ProxyAuthError) -> None:
    """Refusals are audited, but anyone can send unsigned requests: at most one event per
    (claimed cluster, reason, address) per ``REFUSAL_AUDIT_SECONDS``, so a flood cannot turn
    into a flood of database writes."""
    claimed = request.headers.get("X-OpenCMK-Cluster", "")[:64]
    address = str(request.META.get("REMOTE_ADDR", ""))
    key = f"kms_configs:refused:{claimed}:{exc.reason}:{address}"
    if cache.add(key, 1, REFUSAL_AUDIT_SECONDS):
        audit_request(
            request, exc.identity, status=401, outcome="denied", extra={"error": exc.reason}
        )


def proxy_signed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Authenticate before anything else; failures answer 401 and are audited."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            identity = authenticate(request)
        except ProxyAuthError as exc:
            _audit_refusal(request, exc)
            return error_response(401, exc.reason, "request signature refused")
        request.proxy = identity  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper
