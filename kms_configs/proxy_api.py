"""The broker side of docs/sync-protocol.md: ``/api/v1/proxy/…`` for request-signed proxies."""

from __future__ import annotations

import json
import re
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from kms_configs import proxy_services
from kms_configs.bundles import (
    BundlePage,
    CursorExpiredError,
    changes_page,
    cluster_statements,
    snapshot_page,
)
from kms_configs.errors import KmsConfigError
from kms_configs.models import PolicyCluster, TenantSecret
from kms_configs.proxy_auth import (
    ProxyIdentity,
    audit_poll,
    audit_request,
    error_response,
    proxy_signed,
)
from tenants.models import Tenant

DEFAULT_LIMIT, MAX_LIMIT = 500, 1000
_SNAPSHOT_RE = re.compile(r"s:(\d{1,19}):(\d{1,19})")
_CHANGES_RE = re.compile(r"c:(\d{1,19})")


def _identity(request: HttpRequest) -> ProxyIdentity:
    return request.proxy  # type: ignore[attr-defined,no-any-return]


def _limit(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or DEFAULT_LIMIT), MAX_LIMIT))
    except ValueError:
        return DEFAULT_LIMIT


def _page(request: HttpRequest, identity: ProxyIdentity) -> BundlePage:
    cursor, limit = request.GET.get("cursor"), _limit(request.GET.get("limit"))
    vendor_pk, cluster_id = identity.vendor.pk, identity.cluster_id
    if cursor is None:
        return snapshot_page(
            vendor_pk=vendor_pk, cluster_id=cluster_id, start_seq=None, after_pk=0, limit=limit
        )
    if match := _SNAPSHOT_RE.fullmatch(cursor):
        return snapshot_page(
            vendor_pk=vendor_pk,
            cluster_id=cluster_id,
            start_seq=int(match[1]),
            after_pk=int(match[2]),
            limit=limit,
        )
    if match := _CHANGES_RE.fullmatch(cursor):
        return changes_page(
            vendor_pk=vendor_pk,
            cluster_id=cluster_id,
            since=int(match[1]),
            limit=limit,
            if_none_match=request.headers.get("If-None-Match"),
        )
    raise CursorExpiredError


@proxy_signed
def bundles(request: HttpRequest) -> HttpResponse:
    identity = _identity(request)
    if request.method != "GET":
        return error_response(405, "method_not_allowed", "use GET")
    try:
        page = _page(request, identity)
    except CursorExpiredError:
        audit_request(request, identity, status=410, outcome="failure")
        return error_response(410, "cursor_expired", "start a new snapshot")
    if page.not_modified:
        audit_poll(request, identity, status=304)
        response = HttpResponse(status=304)
        response["ETag"] = page.etag
        return response
    clusters, revocations = cluster_statements(identity.vendor.pk)
    audit_poll(request, identity, status=200)
    response = JsonResponse(
        {
            "kind": page.kind,
            "vendor_id": str(identity.vendor.public_id),
            "clusters": clusters,
            "revocations": revocations,
            "tenants": page.tenants,
            "deleted_tenants": page.deleted_tenants,
            "next_cursor": page.next_cursor,
            "has_more": page.has_more,
        }
    )
    response["ETag"] = page.etag
    return response


def _json_body(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return None


@proxy_signed
def heartbeat(request: HttpRequest) -> HttpResponse:
    identity = _identity(request)
    if request.method != "POST":
        return error_response(405, "method_not_allowed", "use POST")
    body = _json_body(request)
    try:
        if not isinstance(body, dict):
            raise proxy_services.HeartbeatInvalidError("The body must be a JSON object.")
        proxy_services.heartbeat_store(identity=identity, body=body)
    except KmsConfigError as exc:
        audit_request(request, identity, status=400, outcome="failure")
        return error_response(400, "invalid_heartbeat", str(exc))
    return HttpResponse(status=204)


def _served_tenant(identity: ProxyIdentity, tenant_id: str) -> Tenant | None:
    tenant = Tenant.objects.filter(vendor_id=identity.vendor.pk, tenant_id=tenant_id).first()
    if tenant is None:
        return None
    served = PolicyCluster.objects.filter(
        tenant=tenant, cluster_id=identity.cluster_id, current=True
    ).exists()
    return tenant if served else None


@proxy_signed
def tenant_secrets(request: HttpRequest, tenant_id: str) -> HttpResponse:
    identity = _identity(request)
    if request.method not in ("GET", "POST"):
        return error_response(405, "method_not_allowed", "use GET or POST")
    tenant = _served_tenant(identity, tenant_id)
    if tenant is None:
        audit_request(request, identity, status=404, outcome="failure")
        return error_response(404, "unknown_tenant", "this cluster does not serve the tenant")
    if request.method == "GET":
        return _list_secrets(request, identity, tenant)
    body = _json_body(request)
    try:
        if not isinstance(body, dict):
            raise proxy_services.SecretInvalidError("The body must be a JSON object.")
        created, secret = proxy_services.tenant_secret_create(
            identity=identity, tenant=tenant, body=body
        )
    except KmsConfigError as exc:
        audit_request(request, identity, status=400, outcome="failure", tenant=tenant)
        return error_response(400, "invalid_secret", str(exc))
    return JsonResponse(
        {"secret": proxy_services.secret_json(secret)}, status=201 if created else 409
    )


def _list_secrets(request: HttpRequest, identity: ProxyIdentity, tenant: Tenant) -> HttpResponse:
    rows = (
        TenantSecret.objects.filter(tenant=tenant)
        .exclude(status="archived")
        .order_by("created_at", "pk")
    )
    with transaction.atomic():
        payload = {"secrets": [proxy_services.secret_json(s) for s in rows]}
        audit_request(request, identity, status=200, tenant=tenant)
    return JsonResponse(payload)
