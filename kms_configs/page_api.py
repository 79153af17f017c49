"""JSON endpoints the KMS configuration page posts to (session + CSRF, like keyring.api).

Bodies hold only sealed configs, labels and signed policies; ``kms_configs.services`` verifies
the signature, versions and digests. Only tenant admins get past the chokepoint.
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

from keyring import access
from kms_configs import services
from kms_configs.errors import KmsConfigError, PolicyRejectedError

# A policy with 64 sealed configs of up to 64 KiB each would be larger. Edits upload one config;
# approving or removing a cluster uploads every current blob, a few KiB each in practice.
MAX_BODY_BYTES = 1024 * 1024


def _body(request: HttpRequest) -> dict[str, Any]:
    if len(request.body) > MAX_BODY_BYTES:
        raise PolicyRejectedError("The request body is too large.")
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise PolicyRejectedError("The request body must be JSON.") from None
    if not isinstance(body, dict):
        raise PolicyRejectedError("The request body must be a JSON object.")
    return body


def _endpoint(view: Callable[..., dict[str, Any]]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, public_id: UUID) -> HttpResponse:
        acc = access.tenant_admin(request, public_id)
        try:
            return JsonResponse(view(request, acc.tenant, _body(request)), status=201)
        except KmsConfigError as exc:
            return JsonResponse({"error": str(exc)}, status=exc.status)

    return login_required(require_POST(wrapped))


@_endpoint
def config_id(request: HttpRequest, tenant: Any, body: dict[str, Any]) -> dict[str, Any]:
    kind = body.get("kind")
    if not isinstance(kind, str):
        raise PolicyRejectedError("kind must be kms or logging.")
    return {"config_id": services.config_id_reserve(tenant=tenant, actor=request.user, kind=kind)}


@_endpoint
def policy(request: HttpRequest, tenant: Any, body: dict[str, Any]) -> dict[str, Any]:
    sealed = body.get("sealed_configs", [])
    if not isinstance(sealed, list) or not all(isinstance(s, dict) for s in sealed):
        raise PolicyRejectedError("sealed_configs must be a list of objects.")
    stored = services.policy_submit(
        tenant=tenant, actor=request.user, statement=body.get("statement"), sealed_configs=sealed
    )
    return {"version": stored.version}
