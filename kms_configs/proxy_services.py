"""Writes made on behalf of proxies: heartbeats and tenant secrets (docs/sync-protocol.md §3-4)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit.services import record
from kms_configs.errors import KmsConfigError
from kms_configs.models import ConfigId, ProxyHeartbeat, SecretType, TenantSecret
from kms_configs.proxy_auth import ProxyIdentity
from tenants.models import Tenant

HEARTBEAT_AUDIT_SECONDS = 300
MAX_HEARTBEAT_TENANTS = 1000
MAX_SECRET_ID = 2**32 - 1
MAX_ENCRYPTED_SECRET = 8192
_CONFIG_KEYS = ("config_id", "state", "canary", "last_kms_error", "last_kms_error_at")
_COUNTER_KEYS = ("wraps", "unwraps", "errors", "queued", "dropped", "delivered", "failed")


class HeartbeatInvalidError(KmsConfigError):
    """The heartbeat body does not follow the protocol."""


def _text(value: object, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _counters(value: object) -> dict[str, int]:
    if not isinstance(value, Mapping):
        return {}
    return {k: int(v) for k, v in value.items() if k in _COUNTER_KEYS and type(v) is int}


def _config(raw: object) -> dict[str, Any] | None:
    """Only known fields of primitive types are kept: a heartbeat can carry nothing else."""
    if not isinstance(raw, Mapping) or type(raw.get("config_id")) is not int:
        return None
    kept = {k: raw.get(k) for k in _CONFIG_KEYS if isinstance(raw.get(k), (int, str))}
    return kept | {"counters": _counters(raw.get("counters"))}


def _sent_at(value: object) -> datetime | None:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


def heartbeat_store(*, identity: ProxyIdentity, body: Mapping[str, Any]) -> int:
    """Upsert the latest status per (cluster, instance, tenant); returns how many were stored."""
    instance_id = _text(body.get("instance_id"), 200)
    entries = body.get("tenants")
    if body.get("cluster_id") != identity.cluster_id or not instance_id:
        raise HeartbeatInvalidError("cluster_id and instance_id are required.")
    if not isinstance(entries, list) or len(entries) > MAX_HEARTBEAT_TENANTS:
        raise HeartbeatInvalidError("tenants must be a list of at most 1000 entries.")
    by_id = {e["tenant_id"]: e for e in entries if isinstance(e, Mapping) and "tenant_id" in e}
    tenants = Tenant.objects.filter(
        vendor_id=identity.vendor.pk, tenant_id__in=[t for t in by_id if isinstance(t, str)]
    ).only("pk", "tenant_id")
    now = timezone.now()
    rows = [
        _heartbeat_row(identity, instance_id, body, t, by_id[t.tenant_id], now) for t in tenants
    ]
    with transaction.atomic():
        ProxyHeartbeat.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["cluster", "instance_id", "tenant"],
            update_fields=[
                "proxy_version",
                "ready",
                "policy_version",
                "status",
                "rejection",
                "configs",
                "events",
                "sent_at",
                "received_at",
            ],
        )
        # §3: a rate-limited audit record per replica, not one per heartbeat.
        if cache.add(
            f"kms_configs:hb:{identity.cluster_id}:{instance_id}", 1, HEARTBEAT_AUDIT_SECONDS
        ):
            record(
                action="proxy.heartbeat",
                actor=identity.actor,
                vendor=identity.vendor,
                target=identity.cluster_id,
                data={
                    "instance_id": instance_id,
                    "tenants": len(rows),
                    "ready": body.get("ready") is True,
                },
            )
    return len(rows)


def _heartbeat_row(
    identity: ProxyIdentity,
    instance_id: str,
    body: Mapping[str, Any],
    tenant: Tenant,
    entry: Mapping[str, Any],
    now: datetime,
) -> ProxyHeartbeat:
    version = entry.get("policy_version")
    configs = entry.get("configs") if isinstance(entry.get("configs"), list) else []
    return ProxyHeartbeat(
        cluster_id=identity.cluster_pk,
        instance_id=instance_id,
        tenant=tenant,
        proxy_version=_text(body.get("proxy_version"), 40),
        ready=body.get("ready") is True,
        policy_version=version if type(version) is int and version >= 0 else None,
        status=_text(entry.get("status"), 20),
        rejection=_text(entry.get("rejection"), 64),
        configs=[c for c in map(_config, configs or []) if c is not None],
        events=_counters(entry.get("events")),
        sent_at=_sent_at(body.get("sent_at")),
        received_at=now,
    )


class SecretInvalidError(KmsConfigError):
    """The tenant secret body does not follow the protocol."""


def _secret_fields(tenant: Tenant, body: Mapping[str, Any]) -> dict[str, Any]:
    path, kind = body.get("secret_path"), body.get("secret_type")
    config_id, wrapped = body.get("kms_config_id"), body.get("encrypted_secret")
    if not isinstance(path, str) or not 0 < len(path) <= 256:
        raise SecretInvalidError("secret_path must be 1-256 characters.")
    if kind not in SecretType.values:
        raise SecretInvalidError("secret_type must be search, deterministic or vector.")
    if not isinstance(wrapped, str) or not 0 < len(wrapped) <= MAX_ENCRYPTED_SECRET:
        raise SecretInvalidError("encrypted_secret must be a base64 string.")
    if (
        type(config_id) is not int
        or not ConfigId.objects.filter(tenant=tenant, config_id=config_id, kind="kms").exists()
    ):
        raise SecretInvalidError("kms_config_id is not a KMS config of this tenant.")
    return {
        "secret_path": path,
        "secret_type": kind,
        "kms_config_id": config_id,
        "encrypted_secret": wrapped,
    }


@transaction.atomic
def tenant_secret_create(
    *, identity: ProxyIdentity, tenant: Tenant, body: Mapping[str, Any]
) -> tuple[bool, TenantSecret]:
    """First write wins: (True, new record) or (False, the existing current record)."""
    fields = _secret_fields(tenant, body)
    for _ in range(8):
        try:
            with transaction.atomic():
                secret = TenantSecret.objects.create(
                    tenant=tenant,
                    tenant_secret_id=secrets.randbelow(MAX_SECRET_ID) + 1,
                    created_by_cluster=identity.cluster_id,
                    **fields,
                )
        except IntegrityError:
            # Either another proxy won the race (read its record: under READ COMMITTED this
            # new statement sees its commit) or the random id collided (draw again).
            existing = TenantSecret.objects.filter(
                tenant=tenant,
                secret_path=fields["secret_path"],
                secret_type=fields["secret_type"],
                status="current",
            ).first()
            if existing is not None:
                _audit_secret(identity, tenant, existing, "proxy.request", conflict=True)
                return False, existing
            continue
        _audit_secret(identity, tenant, secret, "tenant_secret.created", conflict=False)
        return True, secret
    raise SecretInvalidError("Could not allocate a tenant secret id.")  # pragma: no cover


def _audit_secret(
    identity: ProxyIdentity, tenant: Tenant, secret: TenantSecret, action: str, *, conflict: bool
) -> None:
    record(
        action=action,
        actor=identity.actor,
        vendor=identity.vendor,
        tenant=tenant,
        target=str(secret.tenant_secret_id),
        outcome="failure" if conflict else "success",
        data={
            "tenant_secret_id": secret.tenant_secret_id,
            "secret_path": secret.secret_path,
            "secret_type": secret.secret_type,
            "status": 409 if conflict else 201,
        },
    )


def secret_json(secret: TenantSecret) -> dict[str, Any]:
    return {
        "tenant_secret_id": secret.tenant_secret_id,
        "secret_path": secret.secret_path,
        "secret_type": secret.secret_type,
        "kms_config_id": secret.kms_config_id,
        "encrypted_secret": secret.encrypted_secret,
        "status": secret.status,
        "created_at": secret.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
