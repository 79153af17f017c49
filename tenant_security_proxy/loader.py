"""Apply verified tenant bundles to the runtime state: KMS clients, canaries, logging sinks."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from tenant_security_proxy import errors
from tenant_security_proxy.errors import ProxyError
from tenant_security_proxy.eventlog import proxy_event
from tenant_security_proxy.events.kms_fields import config_event_fields, key_identity
from tenant_security_proxy.leasing import LeaseManager
from tenant_security_proxy.state import (
    ConfigRuntime,
    EventSink,
    KmsClientProtocol,
    KmsFactory,
    ProxyState,
    TenantRuntime,
)
from tenant_security_proxy.verify import VerifiedConfig, VerifiedTenant

log = logging.getLogger("tenant_security_proxy.loader")
CANARY_RETRY_S = 10.0
# SDK warm-up (client construction, credential discovery) is not the KMS round trip the canary
# times: it gets its own, much wider bound so a slow start cannot fail a good config.
PREPARE_TIMEOUT_S = 120.0


async def run_canary(config: ConfigRuntime, timeout_s: float) -> None:
    """Wrap and unwrap a random key; a config is used only once this has succeeded."""
    config.canary_checked_at = time.monotonic()
    probe = os.urandom(32)
    try:
        assert config.kms is not None
        prepare = getattr(config.kms, "prepare", None)
        if prepare is not None:
            await asyncio.wait_for(prepare(), max(PREPARE_TIMEOUT_S, timeout_s))
        wrapped = await asyncio.wait_for(config.kms.wrap(probe), timeout_s)
        if await asyncio.wait_for(config.kms.unwrap(wrapped), timeout_s) != probe:
            raise ProxyError(errors.KMS_UNWRAP_FAILED, "Canary unwrap returned a different key.")
    except ProxyError as exc:
        config.canary, config.canary_error = "failed", exc
        config.record_error(exc)
        return
    except (TimeoutError, Exception):
        failure = ProxyError(errors.KMS_UNREACHABLE, "Canary wrap/unwrap did not complete.")
        config.canary, config.canary_error = "failed", failure
        config.record_error(failure)
        return
    config.canary, config.canary_error = "ok", None


class Loader:
    def __init__(
        self,
        *,
        state: ProxyState,
        leases: LeaseManager,
        sink: EventSink,
        kms_factory: KmsFactory,
        configure_logging: Callable[[str, Mapping[str, Any] | None], None] | None = None,
        remove_logging: Callable[[str], None] | None = None,
        canary_timeout_s: float = 5.0,
        canary_concurrency: int = 64,
    ) -> None:
        self.state = state
        self.leases = leases
        self.sink = sink
        self.kms_factory = kms_factory
        self.configure_logging = configure_logging
        self.remove_logging = remove_logging
        self.canary_timeout_s = canary_timeout_s
        self._canaries: set[asyncio.Task[None]] = set()
        self._canary_gate = asyncio.Semaphore(canary_concurrency)

    async def _config(
        self, tenant_id: str, verified: VerifiedConfig, previous: ConfigRuntime | None
    ) -> ConfigRuntime:
        config = ConfigRuntime(
            verified.config_id, verified.provider, verified.state, verified.content_digest
        )
        config.key_id = key_identity(verified.provider, verified.plaintext)
        config.event_fields = config_event_fields(
            tenant_id, verified.config_id, verified.provider, config.key_id
        )
        if previous is not None:
            config.wraps, config.unwraps, config.errors = (
                previous.wraps,
                previous.unwraps,
                previous.errors,
            )
        if verified.state == "disabled":
            config.canary = "skipped"
            return config
        if (
            previous is not None
            and previous.kms is not None
            and (previous.content_digest == verified.content_digest)
        ):
            config.kms, config.canary = previous.kms, previous.canary
            config.canary_error = previous.canary_error
            pending = previous.canary_task
            if pending is not None and not pending.done():
                config.canary_task = asyncio.create_task(_follow(pending, previous, config))
            return config
        try:
            config.kms = self.kms_factory(verified.plaintext or {}, tenant_id, verified.config_id)
        except ProxyError as exc:
            config.canary, config.canary_error = "failed", exc
            return config
        # Canaries run in the background so that start-up with thousands of tenants is not
        # serialised on KMS round trips; requests to this config wait for its canary.
        config.canary_task = asyncio.create_task(self._canary(config))
        self._canaries.add(config.canary_task)
        config.canary_task.add_done_callback(self._canaries.discard)
        return config

    async def _canary(self, config: ConfigRuntime) -> None:
        async with self._canary_gate:
            await run_canary(config, self.canary_timeout_s)

    async def wait_canaries(self) -> None:
        """Wait until every canary started so far has finished (for `check` and tests)."""
        while self._canaries:
            await asyncio.gather(*list(self._canaries), return_exceptions=True)

    async def apply(self, verified: VerifiedTenant) -> None:
        tenant_id = verified.tenant_id
        old = self.state.tenants.get(tenant_id)
        configs: dict[int, ConfigRuntime] = {}
        for cid, vc in verified.kms_configs.items():
            previous = old.configs.get(cid) if old else None
            configs[cid] = await self._config(tenant_id, vc, previous)
        runtime = TenantRuntime(
            tenant_id,
            verified.version,
            verified.policy_bytes,
            configs,
            verified.leasing_enabled,
            verified.leasing_max_age_s,
            verified.logging.plaintext if verified.logging else None,
            verified.logging.config_id if verified.logging else None,
        )
        if self.configure_logging is not None:
            self.configure_logging(tenant_id, runtime.logging_config)
        self.state.tenants[tenant_id] = runtime  # atomic swap: requests see old or new, not a mix
        self.state.seen[tenant_id] = (verified.version, verified.policy_bytes)
        self.state.rejections.pop(tenant_id, None)
        await self._retire(old, runtime)
        self.sink.emit(
            tenant_id,
            proxy_event(
                "CONFIG_LOADED",
                tenant_id,
                details={
                    "policy_version": verified.version,
                    "configs": {
                        str(c.config_id): {"state": c.state, "canary": c.canary}
                        for c in configs.values()
                    },
                    "leasing": verified.leasing_enabled,
                },
            ),
        )

    async def _retire(self, old: TenantRuntime | None, new: TenantRuntime | None) -> None:
        """Close KMS clients no longer used and drop leased keys the new policy forbids."""
        if old is None:
            return
        kept: set[int] = {id(c.kms) for c in (new.configs.values() if new else ())}
        for config in old.configs.values():
            usable = (
                new is not None
                and config.config_id in new.configs
                and (new.configs[config.config_id].state != "disabled")
            )
            if not usable:
                self.leases.drop_config(config.config_id)
            if config.kms is not None and id(config.kms) not in kept:
                if config.canary_task is not None:
                    config.canary_task.cancel()
                await _close(config.kms)
        new_primary = new.primary if new else None
        old_primary = old.primary
        if (
            new is None
            or not new.leasing_enabled
            or new_primary is None
            or old_primary is None
            or new_primary.config_id != old_primary.config_id
        ):
            self.leases.drop_tenant(old.tenant_id)

    async def remove(self, tenant_id: str, reason: str) -> None:
        old = self.state.tenants.pop(tenant_id, None)
        if old is None:
            return
        await self._retire(old, None)
        if self.remove_logging is not None:
            self.remove_logging(tenant_id)
        self.sink.emit(
            tenant_id, proxy_event("CONFIG_REMOVED", tenant_id, details={"reason": reason})
        )

    async def close_all(self) -> None:
        """Shutdown: close every KMS client and forget the tenants, without events."""
        tenants, self.state.tenants = self.state.tenants, {}
        for tenant in tenants.values():
            await self._retire(tenant, None)

    async def retry_failed_canaries(self) -> None:
        now = time.monotonic()
        for tenant in list(self.state.tenants.values()):
            for config in tenant.configs.values():
                if (
                    config.canary == "failed"
                    and config.kms is not None
                    and (now - config.canary_checked_at >= CANARY_RETRY_S)
                ):
                    await run_canary(config, self.canary_timeout_s)

    def reject(self, tenant_id: str, reason: str) -> None:
        self.state.rejections[tenant_id] = reason
        log.warning("bundle rejected", extra={"tenant_id": tenant_id, "reason": reason})
        self.sink.emit(
            tenant_id, proxy_event("CONFIG_REJECTED", tenant_id, details={"reason": reason})
        )


async def _follow(task: asyncio.Task[None], source: ConfigRuntime, target: ConfigRuntime) -> None:
    """Carry a canary still running for the previous policy's object over to the new one."""
    await asyncio.shield(task)
    target.canary, target.canary_error = source.canary, source.canary_error
    target.canary_checked_at = source.canary_checked_at


async def _close(kms: KmsClientProtocol) -> None:
    try:
        await kms.close()
    except Exception:
        log.warning("closing a KMS client failed")
