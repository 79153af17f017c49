"""Tenant secrets and `key/derive-with-secret-path` (IronCore deterministic encryption).

derived key = HMAC-SHA512(tenant secret, tenant_id + "-" + derivation path) (64 bytes). Tenant
secrets are 32 random bytes created by a proxy, wrapped by the tenant's primary KMS into an EDEK
and stored at the broker (docs/sync-protocol.md §4); first write wins, so all replicas agree.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import time
from collections.abc import Mapping
from typing import Any

from tenant_security_proxy import errors
from tenant_security_proxy.broker_client import BrokerClient, BrokerUnavailableError
from tenant_security_proxy.edek import encode_edek_b64
from tenant_security_proxy.errors import ProxyError
from tenant_security_proxy.keyops import KeyService
from tenant_security_proxy.state import TenantRuntime

SECRET_TYPES = frozenset({"search", "deterministic", "vector"})
_CACHE_TTL_S = 60.0
_MAX_TENANT_SECRET_ID = 2**32 - 1


def derive_key(secret: bytes, tenant_id: str, derivation_path: str) -> bytes:
    return hmac.new(secret, f"{tenant_id}-{derivation_path}".encode(), hashlib.sha512).digest()


class SecretStore:
    def __init__(self, client: BrokerClient, keys: KeyService) -> None:
        self.client = client
        self.keys = keys
        # tenant id -> (fetched at, {(path, type): [(id, secret, current)]}) ; memory only
        self._cache: dict[
            str, tuple[float, dict[tuple[str, str], list[tuple[int, bytes, bool]]]]
        ] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def _load(
        self, tenant: TenantRuntime
    ) -> dict[tuple[str, str], list[tuple[int, bytes, bool]]]:
        cached = self._cache.get(tenant.tenant_id)
        if cached and time.monotonic() - cached[0] < _CACHE_TTL_S:
            return cached[1]
        response = await self._call(self.client.list_secrets(tenant.tenant_id))
        if response.status != 200:
            raise ProxyError(
                errors.UNKNOWN_ERROR, "Tenant secrets are unavailable.", http_status=503
            )
        secrets: dict[tuple[str, str], list[tuple[int, bytes, bool]]] = {}
        for record in (response.json() or {}).get("secrets", []):
            await self._add(tenant, secrets, record)
        self._cache[tenant.tenant_id] = (time.monotonic(), secrets)
        return secrets

    async def _add(
        self,
        tenant: TenantRuntime,
        secrets: dict[tuple[str, str], list[tuple[int, bytes, bool]]],
        record: Mapping[str, Any],
    ) -> None:
        status = record.get("status")
        secret_id = record.get("tenant_secret_id")
        if (
            status == "archived"
            or not isinstance(secret_id, int)
            or not 0 < secret_id <= _MAX_TENANT_SECRET_ID
        ):
            return
        try:
            secret, _ = await self.keys.unwrap(tenant, record.get("encrypted_secret"))
        except ProxyError as exc:
            if exc.code == errors.KMS_CONFIGURATION_DISABLED:
                return  # a secret under a disabled config can no longer be used
            raise
        key = (str(record.get("secret_path")), str(record.get("secret_type")))
        secrets.setdefault(key, []).append((secret_id, secret, status == "current"))

    @staticmethod
    async def _call(coro: Any) -> Any:
        try:
            return await coro
        except BrokerUnavailableError:
            raise ProxyError(
                errors.UNKNOWN_ERROR, "Tenant secrets are unavailable.", http_status=503
            ) from None

    async def _create(self, tenant: TenantRuntime, path: str, secret_type: str) -> None:
        secret = os.urandom(32)
        edek = await self.keys.wrap_dek_with_kms(tenant, secret)
        record = {
            "secret_path": path,
            "secret_type": secret_type,
            "kms_config_id": edek.kms_config_id,
            "encrypted_secret": encode_edek_b64(edek),
        }
        response = await self._call(self.client.create_secret(tenant.tenant_id, record))
        if response.status not in (201, 409):  # 409: another replica won; use its secret
            raise ProxyError(
                errors.UNKNOWN_ERROR, "Tenant secret could not be stored.", http_status=503
            )
        self._cache.pop(tenant.tenant_id, None)

    async def secrets_for(
        self, tenant: TenantRuntime, path: str, secret_type: str, *, create: bool
    ) -> list[tuple[int, bytes, bool]]:
        found = (await self._load(tenant)).get((path, secret_type), [])
        if any(current for _, _, current in found) or not create:
            return found
        lock = self._locks.setdefault(tenant.tenant_id, asyncio.Lock())
        async with lock:
            found = (await self._load(tenant)).get((path, secret_type), [])
            if not any(current for _, _, current in found):
                await self._create(tenant, path, secret_type)
                found = (await self._load(tenant)).get((path, secret_type), [])
        return found

    async def derive(self, tenant: TenantRuntime, body: Mapping[str, Any]) -> dict[str, Any]:
        paths, secret_type = _parse(body)
        has_primary = tenant.primary is not None
        derived: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for secret_path, derivation_paths in paths.items():
            found = await self.secrets_for(tenant, secret_path, secret_type, create=has_primary)
            derived[secret_path] = {
                dp: [
                    {
                        "derivedKey": base64.b64encode(
                            derive_key(s, tenant.tenant_id, dp)
                        ).decode(),
                        "tenantSecretId": sid,
                        "current": current,
                    }
                    for sid, s, current in found
                ]
                for dp in derivation_paths
            }
        return {"hasPrimaryConfig": has_primary, "derivedKeys": derived}


def _parse(body: Mapping[str, Any]) -> tuple[dict[str, list[str]], str]:
    paths = body.get("paths")
    if not isinstance(paths, dict) or not all(
        isinstance(v, list) and all(isinstance(p, str) for p in v) for v in paths.values()
    ):
        raise ProxyError(
            errors.INVALID_REQUEST_BODY, "paths must map secret paths to lists of strings"
        )
    if body.get("derivationType", "sha512") != "sha512":
        raise ProxyError(errors.INVALID_REQUEST_BODY, "only derivationType sha512 is supported")
    secret_type = body.get("secretType")
    if secret_type not in SECRET_TYPES:
        raise ProxyError(
            errors.INVALID_REQUEST_BODY, "secretType must be search, deterministic or vector"
        )
    return paths, secret_type
