"""Key leasing (DESIGN.md §6.4) and the wrap/unwrap of data keys.

A leased key (LK) is a per-tenant AES-256-GCM key wrapped once by the tenant's primary KMS; every
EDEK made under it carries the wrapped LK (`encryptedLeasedKeyData`), so any replica can unwrap
it after one KMS call and then serve from its cache.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from prometheus_client import Counter

from tenant_security_proxy import errors
from tenant_security_proxy.edek import EncryptedDek, InvalidEdekError, LeasedEdekTemplate
from tenant_security_proxy.errors import ProxyError
from tenant_security_proxy.metrics import REGISTRY
from tenant_security_proxy.state import ConfigRuntime, TenantRuntime

# AES-GCM with random 96-bit IVs: stay far below 2^32 messages per key (NIST SP 800-38D, PR-12).
MAX_USES_PER_LEASED_KEY = 2**31
_MAX_CACHED_KEYS = 100_000

KMS_CALLS = Counter(
    "tsp_key_kms_calls", "KMS calls made for data and leased keys", ["op"], registry=REGISTRY
)


@dataclass(eq=False)
class LeasedKey:
    key_id: int
    config_id: int
    aead: AESGCM = field(repr=False)
    elk: tuple[EncryptedDek, ...] = field(repr=False)
    created: float
    uses: int = 0
    tenant_id: str = ""
    template: LeasedEdekTemplate | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.template = LeasedEdekTemplate(
            EncryptedDek(b"", self.config_id, self.key_id, b"", self.elk, self.tenant_id)
        )


class LeaseManager:
    """Current leased key per tenant (for wraps) and a bounded cache of unwrapped ones."""

    def __init__(
        self,
        *,
        on_created: Callable[[str, LeasedKey], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._current: dict[str, LeasedKey] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        # (config id, leased key id, wrapped LK bytes) -> AESGCM; the wrapped bytes are part of
        # the key so two replicas that picked the same random id never confuse their keys.
        self._cache: OrderedDict[tuple[int, int, bytes], AESGCM] = OrderedDict()
        self._on_created = on_created
        self._clock = clock
        self.kms_calls = 0

    def current_for_wrap(self, tenant: TenantRuntime, config: ConfigRuntime) -> LeasedKey | None:
        """The usable leased key without awaiting, or None if one must be created first."""
        lk = self._current.get(tenant.tenant_id)
        if (
            lk is None
            or lk.config_id != config.config_id
            or self._clock() - lk.created >= tenant.leasing_max_age_s
            or lk.uses >= MAX_USES_PER_LEASED_KEY
        ):
            return None
        return lk

    async def leased_key(self, tenant: TenantRuntime, config: ConfigRuntime) -> LeasedKey:
        lk = self.current_for_wrap(tenant, config)
        if lk is not None:
            return lk
        lock = self._locks.setdefault(tenant.tenant_id, asyncio.Lock())
        async with lock:  # one KMS call per tenant however many wraps arrive at once
            lk = self.current_for_wrap(tenant, config)
            if lk is None:
                lk = await self._create(tenant, config)
        return lk

    async def _create(self, tenant: TenantRuntime, config: ConfigRuntime) -> LeasedKey:
        key = os.urandom(32)
        self.kms_calls += 1
        KMS_CALLS.labels("wrap").inc()
        wrapped = await (await config.ready_kms()).wrap(key)
        elk = (EncryptedDek(wrapped, config.config_id, tenant_id=tenant.tenant_id),)
        lk = LeasedKey(
            secrets.randbelow(2**31 - 2) + 1,
            config.config_id,
            AESGCM(key),
            elk,
            self._clock(),
            tenant_id=tenant.tenant_id,
        )
        self._current[tenant.tenant_id] = lk
        self._remember((config.config_id, lk.key_id, wrapped), lk.aead)
        if self._on_created is not None:
            self._on_created(tenant.tenant_id, lk)
        return lk

    def _remember(self, cache_key: tuple[int, int, bytes], aead: AESGCM) -> None:
        self._cache[cache_key] = aead
        if len(self._cache) > _MAX_CACHED_KEYS:
            self._cache.popitem(last=False)

    def cached_aead(self, config: ConfigRuntime, edek: EncryptedDek) -> AESGCM | None:
        """The leased key of a leased EDEK if it is cached, else None (a KMS call is needed)."""
        inner = edek.encrypted_leased_key_data[0]
        if inner.kms_config_id != edek.kms_config_id:
            raise InvalidEdekError("Leased key was wrapped by a different KMS config.")
        return self._cache.get((config.config_id, edek.leased_key_id, inner.encrypted_dek_data))

    async def unwrap_leased(
        self, tenant: TenantRuntime, config: ConfigRuntime, edek: EncryptedDek
    ) -> bytes:
        aead = self.cached_aead(config, edek)
        if aead is None:
            inner = edek.encrypted_leased_key_data[0]
            cache_key = (config.config_id, edek.leased_key_id, inner.encrypted_dek_data)
            self.kms_calls += 1
            KMS_CALLS.labels("unwrap").inc()
            key = await (await config.ready_kms()).unwrap(inner.encrypted_dek_data)
            if len(key) != 32:
                raise ProxyError(errors.KMS_UNWRAP_FAILED)
            aead = AESGCM(key)
            self._remember(cache_key, aead)
        return open_leased(aead, edek)

    def drop_tenant(self, tenant_id: str) -> None:
        self._current.pop(tenant_id, None)
        self._locks.pop(tenant_id, None)

    def drop_config(self, config_id: int) -> None:
        for cache_key in [k for k in self._cache if k[0] == config_id]:
            del self._cache[cache_key]

    def cached_keys(self) -> int:
        return len(self._cache)


def open_leased(aead: AESGCM, edek: EncryptedDek) -> bytes:
    """The DEK inside a leased EDEK, or ProxyError(KMS_UNWRAP_FAILED) if it does not open."""
    try:
        return aead.decrypt(edek.leased_key_iv, edek.encrypted_dek_data, None)
    except InvalidTag:
        raise ProxyError(
            errors.KMS_UNWRAP_FAILED, "Leased key could not unwrap the EDEK."
        ) from None


def leased_wrap(lk: LeasedKey, dek: bytes, tenant_id: str) -> EncryptedDek:
    iv = os.urandom(12)
    lk.uses += 1
    data = lk.aead.encrypt(iv, dek, None)  # no AAD: IronCore's leased EDEK format (DR README)
    return EncryptedDek(data, lk.config_id, lk.key_id, iv, lk.elk, tenant_id)


def leased_wrap_b64(lk: LeasedKey, dek: bytes, iv: bytes | None = None) -> tuple[str, int]:
    """Hot path: the base64 EDEK of `dek` under `lk` straight from the pre-encoded template.

    `iv`: 12 fresh random bytes from the caller, or None to draw them here."""
    if iv is None:
        iv = os.urandom(12)
    elif len(iv) != 12:
        raise ValueError("a leased wrap needs a 12-byte IV")
    lk.uses += 1
    data = lk.aead.encrypt(iv, dek, None)
    assert lk.template is not None
    return lk.template.encode_b64(data, iv), lk.config_id
