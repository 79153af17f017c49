"""DRF authentication with API keys: ``Authorization: Bearer ocv_…`` (or ``oct_…``).

Lookup goes through the unique prefix index, then the stored SHA-256 is compared with
``hmac.compare_digest`` (K-03). An unknown prefix is compared against a dummy hash, so a wrong
prefix and a right prefix with a wrong secret do the same work. Nothing is cached: a revoked or
expired key is refused on the very next request, on every worker (K-05).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from apikeys import tokens
from apikeys.models import ApiKey, KeyKind
from audit.actors import Actor
from audit.services import record

_DUMMY_HASH = tokens.key_hash("ocv_" + "0" * 36)
# K-07: query parameters that commonly carry credentials. Any value shaped like one of our
# keys is refused as well, whatever its parameter is called.
_URL_CREDENTIAL_PARAMS = frozenset({"api_key", "apikey", "key", "token", "access_token", "auth"})


class KeyInUrlError(exceptions.APIException):
    status_code = 400
    default_code = "key_in_url"
    default_detail = (
        "API keys are accepted only in the Authorization header, never in the URL. "
        "If this key was sent in a URL, treat it as leaked: revoke it and create another."
    )


@dataclass(frozen=True)
class ApiKeyPrincipal:
    """``request.user`` for a key-authenticated request; ``request.auth`` is the ``ApiKey``."""

    key: ApiKey
    is_authenticated: bool = True
    is_anonymous: bool = False

    def __repr__(self) -> str:
        return f"ApiKeyPrincipal({self.key.prefix})"

    @property
    def actor(self) -> Actor:
        return key_actor(self.key)


def key_actor(key: ApiKey) -> Actor:
    if key.kind == KeyKind.TENANT:
        return Actor.tenant_api_key(key.prefix, key.tenant)
    return Actor.vendor_api_key(key.prefix, key.vendor)


def refuse_keys_in_url(request: Request) -> None:
    for name, values in request.query_params.lists():
        if name.lower() in _URL_CREDENTIAL_PARAMS or any(
            v.startswith(("ocv_", "oct_")) for v in values
        ):
            raise KeyInUrlError


def verify_key(raw: str) -> ApiKey | None:
    """The live key ``raw`` stands for, or None. Refusals of known keys are audited."""
    if not tokens.is_well_formed(raw):
        return None
    key = (
        ApiKey.objects.select_related("vendor", "tenant", "tenant__vendor")
        .filter(prefix=tokens.prefix_of(raw))
        .first()
    )
    matches = hmac.compare_digest(key.hash if key else _DUMMY_HASH, tokens.key_hash(raw))
    if key is None or not matches:
        return None
    if key.revoked_at is not None or (key.expires_at and key.expires_at <= timezone.now()):
        _audit_refusal(key, "revoked" if key.revoked_at else "expired")
        return None
    return key


def _audit_refusal(key: ApiKey, reason: str) -> None:
    with transaction.atomic():
        record(
            action="api_key.refused",
            actor=key_actor(key),
            vendor=key.vendor,
            tenant=key.tenant,
            target=key,
            outcome="denied",
            data={"prefix": key.prefix, "reason": reason},
        )


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[ApiKeyPrincipal, ApiKey] | None:
        refuse_keys_in_url(request)
        header = request.headers.get("Authorization", "")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <API key>'.")
        key = verify_key(raw.strip())
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked API key.")
        return ApiKeyPrincipal(key), key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="opencmk"'


def principal_key(request: Any) -> ApiKey | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiKey) else None
