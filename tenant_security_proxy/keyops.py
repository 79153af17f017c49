"""Wrap, unwrap and rekey of data keys with the tenant's KMS, leased or not (DESIGN.md §6.3-6.4)."""

from __future__ import annotations

import os

from tenant_security_proxy import errors
from tenant_security_proxy.edek import (
    EncryptedDek,
    InvalidEdekError,
    decode_edek_b64,
    encode_edek_b64,
)
from tenant_security_proxy.errors import ProxyError
from tenant_security_proxy.leasing import (
    KMS_CALLS,
    LeaseManager,
    leased_wrap,
    leased_wrap_b64,
    open_leased,
)
from tenant_security_proxy.state import ConfigRuntime, TenantRuntime

_KMS_WRAP = KMS_CALLS.labels("wrap")
_KMS_UNWRAP = KMS_CALLS.labels("unwrap")


async def _kms_wrap(config: ConfigRuntime, dek: bytes) -> bytes:
    _KMS_WRAP.inc()
    try:
        return await (await config.ready_kms()).wrap(dek)
    except ProxyError as exc:
        config.record_error(exc)
        raise
    except Exception:  # a provider bug must still map to an IronCore code
        failure = ProxyError(errors.KMS_WRAP_FAILED)
        config.record_error(failure)
        raise failure from None


async def _kms_unwrap(config: ConfigRuntime, data: bytes) -> bytes:
    _KMS_UNWRAP.inc()
    try:
        return await (await config.ready_kms()).unwrap(data)
    except ProxyError as exc:
        config.record_error(exc)
        raise
    except Exception:  # a provider bug must still map to an IronCore code
        failure = ProxyError(errors.KMS_UNWRAP_FAILED)
        config.record_error(failure)
        raise failure from None


def _decode_for(tenant: TenantRuntime, edek_text: object) -> EncryptedDek:
    edek = decode_edek_b64(edek_text)
    if edek.tenant_id and edek.tenant_id != tenant.tenant_id:
        raise InvalidEdekError("EDEK was not created for this tenant.")
    return edek


class KeyService:
    def __init__(self, leases: LeaseManager) -> None:
        self.leases = leases

    async def wrap_dek(self, tenant: TenantRuntime, dek: bytes) -> EncryptedDek:
        config = tenant.wrap_config()
        if tenant.leasing_enabled:
            lk = self.leases.current_for_wrap(tenant, config)
            if lk is None:
                lk = await self.leases.leased_key(tenant, config)
            config.wraps += 1
            return leased_wrap(lk, dek, tenant.tenant_id)
        data = await _kms_wrap(config, dek)
        config.wraps += 1
        return EncryptedDek(data, config.config_id, tenant_id=tenant.tenant_id)

    async def wrap_dek_with_kms(self, tenant: TenantRuntime, dek: bytes) -> EncryptedDek:
        """Wrap directly with the primary KMS, never with a leased key (long-lived secrets)."""
        config = tenant.wrap_config()
        data = await _kms_wrap(config, dek)
        return EncryptedDek(data, config.config_id, tenant_id=tenant.tenant_id)

    def wrap_b64_leased_now(self, tenant: TenantRuntime) -> tuple[bytes, str, int, bool] | None:
        """`wrap_b64` without awaiting when the tenant's leased key is ready, else None.

        The hot path of document/wrap: one `os.urandom` call for the DEK and the IV.
        """
        if not tenant.leasing_enabled:
            return None
        config = tenant.wrap_config()
        lk = self.leases.current_for_wrap(tenant, config)
        if lk is None:
            return None
        config.wraps += 1
        random = os.urandom(44)
        dek = random[:32]
        edek_b64, config_id = leased_wrap_b64(lk, dek, random[32:])
        return dek, edek_b64, config_id, True

    async def wrap_b64(self, tenant: TenantRuntime) -> tuple[bytes, str, int, bool]:
        """Hot path of document/wrap: (dek, base64 EDEK, config id, leased?)."""
        dek = os.urandom(32)
        if tenant.leasing_enabled:
            config = tenant.wrap_config()
            lk = self.leases.current_for_wrap(tenant, config)
            if lk is None:
                lk = await self.leases.leased_key(tenant, config)
            config.wraps += 1
            edek_b64, config_id = leased_wrap_b64(lk, dek)
            return dek, edek_b64, config_id, True
        edek = await self.wrap_dek(tenant, dek)
        return dek, encode_edek_b64(edek), edek.kms_config_id, False

    async def wrap(self, tenant: TenantRuntime) -> tuple[bytes, EncryptedDek]:
        dek = os.urandom(32)
        return dek, await self.wrap_dek(tenant, dek)

    def unwrap_leased_now(
        self, tenant: TenantRuntime, edek_text: object
    ) -> tuple[bytes, EncryptedDek] | None:
        """`unwrap` without awaiting when the EDEK is leased and its leased key cached, else
        None (then call `unwrap`). Raises exactly what `unwrap` would for the same EDEK."""
        edek = _decode_for(tenant, edek_text)
        if not edek.leased_key_id:
            return None
        try:
            config = tenant.unwrap_config(edek.kms_config_id)
            try:
                aead = self.leases.cached_aead(config, edek)
                if aead is None:
                    return None
                dek = open_leased(aead, edek)
            except ProxyError as exc:
                config.record_error(exc)
                raise
            if len(dek) != 32:
                raise ProxyError(errors.KMS_UNWRAP_FAILED)
        except ProxyError as exc:
            exc.kms_config_id = edek.kms_config_id
            raise
        config.unwraps += 1
        return dek, edek

    async def unwrap(self, tenant: TenantRuntime, edek_text: object) -> tuple[bytes, EncryptedDek]:
        edek = _decode_for(tenant, edek_text)
        try:
            config = tenant.unwrap_config(edek.kms_config_id)
            if edek.leased_key_id:
                try:
                    dek = await self.leases.unwrap_leased(tenant, config, edek)
                except ProxyError as exc:
                    config.record_error(exc)
                    raise
            else:
                dek = await _kms_unwrap(config, edek.encrypted_dek_data)
            if len(dek) != 32:
                raise ProxyError(errors.KMS_UNWRAP_FAILED)
        except ProxyError as exc:
            # Named in the failure's security event; free on success (3.11 zero-cost try).
            exc.kms_config_id = edek.kms_config_id
            raise
        config.unwraps += 1
        return dek, edek
