"""Writes about API keys. One audit event per state change; the key itself is never recorded."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apikeys import tokens
from apikeys.models import KIND_SCOPES, ApiKey, KeyKind
from audit.actors import Actor
from audit.services import record
from tenants.models import Tenant
from vendors.models import Vendor

# K-05: two live keys let an organisation rotate (create the new key, deploy it, revoke the old).
MAX_LIVE_KEYS = 2
# Writing last_used_at on every request would turn every read into a write; once a minute
# (or on a new IP) is enough for "when was this key last used".
TOUCH_INTERVAL = timedelta(seconds=60)


class ApiKeyError(Exception):
    """A key cannot be created or changed; ``str()`` is safe to show."""


class TooManyKeysError(ApiKeyError):
    def __init__(self) -> None:
        super().__init__(
            f"An organisation can hold at most {MAX_LIVE_KEYS} live API keys: "
            "revoke the old key before creating another."
        )


def _org(vendor: Vendor, tenant: Tenant | None) -> tuple[str, Any]:
    if tenant is not None:
        if tenant.vendor_id != vendor.pk:
            raise ApiKeyError("The tenant does not belong to that vendor.")
        return KeyKind.TENANT, tenant
    return KeyKind.VENDOR, vendor


def live_keys(*, vendor: Vendor, tenant: Tenant | None) -> Any:
    qs = ApiKey.objects.filter(vendor=vendor, tenant=tenant, revoked_at__isnull=True)
    return qs.exclude(expires_at__lte=timezone.now())


@transaction.atomic
def api_key_create(
    *,
    actor: Actor,
    vendor: Vendor,
    tenant: Tenant | None = None,
    name: str,
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
    created_by: Any = None,
) -> tuple[ApiKey, str]:
    """Mint a key; returns the row and the key, which the caller shows once and forgets (K-02)."""
    kind, org = _org(vendor, tenant)
    # Lock the organisation so two concurrent creates cannot both see one live key.
    type(org).objects.select_for_update().filter(pk=org.pk).first()
    if live_keys(vendor=vendor, tenant=tenant).count() >= MAX_LIVE_KEYS:
        raise TooManyKeysError
    allowed = KIND_SCOPES[kind]
    chosen = list(allowed) if scopes is None else [s for s in allowed if s in scopes]
    if not chosen or len(chosen) != len(set(scopes or allowed)):
        raise ApiKeyError("Choose at least one scope, and only scopes of this kind of key.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ApiKeyError("The expiry date must be in the future.")
    key, new = _insert(kind, vendor, tenant, name.strip()[:100], chosen, expires_at, created_by)
    record(
        action="api_key.created",
        actor=actor,
        vendor=vendor,
        tenant=tenant,
        target=key,
        data={"prefix": key.prefix, "name": key.name, "scopes": chosen},
    )
    return key, new.secret


def _insert(
    kind: str,
    vendor: Vendor,
    tenant: Tenant | None,
    name: str,
    scopes: list[str],
    expires_at: datetime | None,
    created_by: Any,
) -> tuple[ApiKey, tokens.NewKey]:
    if not name:
        raise ApiKeyError("Give the key a name.")
    for _ in range(3):  # a prefix collision (1 in 2**47 per pair) just draws again
        new = tokens.generate(kind)
        key = ApiKey(
            kind=kind,
            vendor=vendor,
            tenant=tenant,
            name=name,
            prefix=new.prefix,
            hash=new.hash,
            scopes=scopes,
            expires_at=expires_at,
            created_by=created_by,
        )
        try:
            with transaction.atomic():
                key.save(force_insert=True)
        except IntegrityError:
            continue
        return key, new
    raise ApiKeyError("Could not create a key; try again.")


@transaction.atomic
def api_key_revoke(*, actor: Actor, key: ApiKey) -> ApiKey:
    """Effective at once: every request looks the key up in the database (K-05)."""
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is not None:
        return key
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    record(
        action="api_key.revoked",
        actor=actor,
        vendor=key.vendor,
        tenant=key.tenant,
        target=key,
        data={"prefix": key.prefix, "name": key.name},
    )
    return key


def api_key_touch(*, key: ApiKey, ip: str | None) -> bool:
    """Note a use (K-08). Returns True when the key was seen from a new IP address."""
    now = timezone.now()
    new_ip = bool(ip) and ip != key.last_used_ip
    if not new_ip and key.last_used_at and now - key.last_used_at < TOUCH_INTERVAL:
        return False
    # A conditional UPDATE, not save(): concurrent requests must not clobber revoked_at.
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now, last_used_ip=ip or None)
    key.last_used_at, key.last_used_ip = now, ip or None
    return new_ip
