"""JSON endpoints the keyring pages' ES modules post to.

Session-authenticated and CSRF-protected like any form post (the page sends the token in
``X-CSRFToken``), behind the same chokepoints as the pages. Bodies hold only public keys,
ciphertext and signed statements; the services check them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_POST

from keyring import access, clusters, selectors, services
from keyring.errors import KeyringConflictError, KeyringError, KeyringNotFoundError
from keyring.models import OrgRootKey, ProxyCluster
from opencmk_crypto import fingerprint

MAX_BODY_BYTES = 64 * 1024


class BadRequestError(KeyringError):
    """The body is not a JSON object of the expected shape."""


def _body(request: HttpRequest) -> dict[str, Any]:
    if len(request.body) > MAX_BODY_BYTES:
        raise BadRequestError("The request body is too large.")
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequestError("The request body must be JSON.") from None
    if not isinstance(body, dict):
        raise BadRequestError("The request body must be a JSON object.")
    return body


def json_endpoint(view: Callable[..., dict[str, Any]]) -> Callable[..., HttpResponse]:
    """POST only, logged in, JSON in and out; keyring errors become 400/403/409 answers."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return JsonResponse(view(request, _body(request), *args, **kwargs), status=201)
        except KeyringError as exc:
            return JsonResponse({"error": str(exc)}, status=exc.status)

    return login_required(require_POST(wrapped))


def _root_fields(body: dict[str, Any]) -> dict[str, Any]:
    names = ("signing_public", "encryption_public", "recipient_kid", "sealed_secret")
    return {name: body.get(name) for name in names}


@json_endpoint
def user_key_create(request: HttpRequest, body: dict[str, Any]) -> dict[str, Any]:
    key = services.user_key_create(
        user=request.user,
        signing_public=body.get("signing_public"),
        encryption_public=body.get("encryption_public"),
        wrapped_secret=body.get("wrapped_secret"),
    )
    return {"kid": key.kid, "fingerprint": fingerprint(key.kid)}


@json_endpoint
def user_key_passphrase(request: HttpRequest, body: dict[str, Any]) -> dict[str, Any]:
    key = services.user_key_rewrap(
        user=request.user, kid=body.get("kid"), wrapped_secret=body.get("wrapped_secret")
    )
    return {"kid": key.kid}


@json_endpoint
def user_key_delete(request: HttpRequest, body: dict[str, Any]) -> dict[str, Any]:
    dropped = services.user_key_delete(user=request.user, kid=body.get("kid"))
    return {"shares_dropped": dropped}


@json_endpoint
def vendor_root(request: HttpRequest, body: dict[str, Any], public_id: UUID) -> dict[str, Any]:
    acc = access.vendor_admin(request, public_id)
    root = services.vendor_root_create(vendor=acc.vendor, user=request.user, **_root_fields(body))
    return {"kid": root.kid, "fingerprint": fingerprint(root.kid)}


@json_endpoint
def tenant_root(request: HttpRequest, body: dict[str, Any], public_id: UUID) -> dict[str, Any]:
    acc = access.tenant_admin(request, public_id)
    root = services.tenant_root_create(tenant=acc.tenant, user=request.user, **_root_fields(body))
    return {"kid": root.kid, "fingerprint": fingerprint(root.kid), "status": root.status}


def _share(
    request: HttpRequest, body: dict[str, Any], root: OrgRootKey | None, members: Any
) -> dict[str, Any]:
    recipient = _uuid(body.get("recipient"))
    if recipient is None:
        raise BadRequestError("recipient must be a user's public id.")
    if root is None:
        raise KeyringConflictError("There is no root key to share yet.")
    membership = members.filter(user__public_id=recipient).first()
    if membership is None:
        raise KeyringNotFoundError("The recipient is not a member of this organisation.")
    share = services.root_share_create(
        root=root,
        actor=request.user,
        recipient=membership.user,
        recipient_kid=body.get("recipient_kid"),
        sealed_secret=body.get("sealed_secret"),
    )
    return {"recipient_kid": share.recipient_kid}


def _uuid(value: object) -> UUID | None:
    try:
        return UUID(str(value))
    except (TypeError, ValueError):
        return None


@json_endpoint
def vendor_share(request: HttpRequest, body: dict[str, Any], public_id: UUID) -> dict[str, Any]:
    acc = access.vendor_admin(request, public_id)
    root = selectors.vendor_root_get(vendor=acc.vendor)
    return _share(request, body, root, acc.vendor.memberships)


@json_endpoint
def tenant_share(request: HttpRequest, body: dict[str, Any], public_id: UUID) -> dict[str, Any]:
    acc = access.tenant_admin(request, public_id)
    root = selectors.tenant_root_get(tenant=acc.tenant)
    return _share(request, body, root, acc.tenant.memberships)


@json_endpoint
def tenant_root_approve(
    request: HttpRequest, body: dict[str, Any], public_id: UUID, root_id: UUID
) -> dict[str, Any]:
    acc = access.vendor_admin(request, public_id)
    root = selectors.pending_tenant_root_list(vendor=acc.vendor).filter(public_id=root_id).first()
    if root is None:
        raise KeyringNotFoundError("No such pending tenant root key.")
    approved = services.tenant_root_approve(
        root=root, actor=request.user, statement=body.get("statement")
    )
    return {"kid": approved.kid, "status": approved.status}


@json_endpoint
def cluster_register(request: HttpRequest, body: dict[str, Any], public_id: UUID) -> dict[str, Any]:
    acc = access.vendor_admin(request, public_id)
    cluster = clusters.proxy_cluster_register(
        vendor=acc.vendor,
        actor=request.user,
        signing_public=body.get("signing_public"),
        encryption_public=body.get("encryption_public"),
        statement=body.get("statement"),
    )
    return {"public_id": str(cluster.public_id), "cluster_id": cluster.cluster_id}


@json_endpoint
def cluster_revoke(
    request: HttpRequest, body: dict[str, Any], public_id: UUID, cluster_id: UUID
) -> dict[str, Any]:
    acc = access.vendor_admin(request, public_id)
    cluster: ProxyCluster | None = selectors.cluster_get(vendor=acc.vendor, public_id=cluster_id)
    if cluster is None:
        raise KeyringNotFoundError("No such proxy cluster.")
    revoked = clusters.proxy_cluster_revoke(
        cluster=cluster, actor=request.user, statement=body.get("statement")
    )
    return {"cluster_id": revoked.cluster_id, "status": revoked.status}
