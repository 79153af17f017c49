"""In-memory runtime state: the tenants this replica serves, their configs and KMS clients.

Nothing here is ever written to disk (P-01). A tenant's state is replaced as a whole when a new
verified policy is applied, so request handlers never see a half-applied policy.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tenant_security_proxy import errors
from tenant_security_proxy.errors import ProxyError, ServiceUnavailableError


class KmsClientProtocol(Protocol):
    async def wrap(self, dek: bytes) -> bytes: ...
    async def unwrap(self, data: bytes) -> bytes: ...
    async def close(self) -> None: ...


class EventSink(Protocol):
    def emit(self, tenant_id: str, event: dict[str, Any]) -> None: ...


KmsFactory = Callable[[Mapping[str, Any], str, int], KmsClientProtocol]


@dataclass(eq=False)
class ConfigRuntime:
    config_id: int
    provider: str
    state: str  # primary | active | disabled
    content_digest: str
    key_id: str | None = None  # non-secret key location for events (events/kms_fields.py)
    # The L-12 event fields of this config, computed once at load (kms_fields.config_event_fields).
    event_fields: Mapping[str, Any] | None = field(default=None, repr=False)
    kms: KmsClientProtocol | None = field(default=None, repr=False)
    canary: str = "pending"  # pending | ok | failed
    canary_error: ProxyError | None = None
    canary_checked_at: float = 0.0
    wraps: int = 0
    unwraps: int = 0
    errors: int = 0
    last_kms_error: str | None = None
    last_kms_error_at: float | None = None
    canary_task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def ready_kms(self) -> KmsClientProtocol:
        """The KMS client once its canary has passed; waits for a canary still running."""
        task = self.canary_task
        if task is not None and not task.done():
            await asyncio.shield(task)  # one request cancelled must not cancel the canary
        return self.usable_kms()

    def usable_kms(self) -> KmsClientProtocol:
        """The KMS client, unless the canary showed this config does not work (yet)."""
        if self.state == "disabled" or self.kms is None:
            raise ProxyError(errors.KMS_CONFIGURATION_DISABLED)
        if self.canary_error is not None:
            raise self.canary_error
        return self.kms

    def record_error(self, exc: ProxyError) -> None:
        self.errors += 1
        self.last_kms_error = _ERROR_CLASS.get(exc.code, "KMS_ERROR")
        self.last_kms_error_at = time.time()


_ERROR_CLASS = {
    errors.KMS_WRAP_FAILED: "KMS_WRAP_FAILED",
    errors.KMS_UNWRAP_FAILED: "KMS_UNWRAP_FAILED",
    errors.KMS_AUTHORIZATION_FAILED: "KMS_AUTHORIZATION_FAILED",
    errors.KMS_CONFIGURATION_INVALID: "KMS_CONFIGURATION_INVALID",
    errors.KMS_UNREACHABLE: "KMS_UNREACHABLE",
    errors.KMS_THROTTLED: "KMS_THROTTLED",
    errors.KMS_ACCOUNT_ISSUE: "KMS_ACCOUNT_ISSUE",
}


@dataclass(eq=False)
class TenantRuntime:
    tenant_id: str
    version: int
    policy_bytes: bytes = field(repr=False)
    configs: dict[int, ConfigRuntime]
    leasing_enabled: bool = False
    leasing_max_age_s: float = 3600.0
    logging_config: Mapping[str, Any] | None = field(default=None, repr=False)
    logging_config_id: int | None = None

    def __post_init__(self) -> None:
        # A TenantRuntime is replaced, never edited, when the policy changes: derive once.
        self.primary: ConfigRuntime | None = next(
            (c for c in self.configs.values() if c.state == "primary"), None
        )
        self.any_usable = any(c.state != "disabled" for c in self.configs.values())

    def wrap_config(self) -> ConfigRuntime:
        primary = self.primary
        if primary is None:
            if not self.any_usable:
                raise ProxyError(errors.UNKNOWN_TENANT_OR_NO_ACTIVE_KMS_CONFIGURATIONS)
            raise ProxyError(errors.NO_PRIMARY_KMS_CONFIGURATION)
        return primary

    def unwrap_config(self, config_id: int) -> ConfigRuntime:
        config = self.configs.get(config_id)
        if config is not None and config.state != "disabled":
            return config
        # The EDEK names a config this tenant disabled: say so (202, as IronCore's TSP does),
        # even when it was the tenant's last one; that is what a tenant revoking access sees.
        if config is None and not self.any_usable:
            raise ProxyError(errors.UNKNOWN_TENANT_OR_NO_ACTIVE_KMS_CONFIGURATIONS)
        # A config gone from the policy or owned by another tenant is unusable, like a disabled one.
        raise ProxyError(errors.KMS_CONFIGURATION_DISABLED)


class ProxyState:
    """What this replica may serve, and whether it may serve at all."""

    def __init__(self, *, max_staleness_s: float, clock: Callable[[], float] = time.monotonic):
        self.tenants: dict[str, TenantRuntime] = {}
        self.rejections: dict[str, str] = {}  # tenant id -> reason class of the last rejection
        # Highest accepted (version, policy bytes) per tenant; kept even when a tenant is
        # removed so that a broker cannot delete and re-add a tenant to roll its policy back.
        self.seen: dict[str, tuple[int, bytes]] = {}
        self.max_staleness_s = max_staleness_s
        self.clock = clock
        self.loaded = False  # a complete snapshot has been applied
        self.last_success: float | None = None
        self.sealed = False
        self.revoked = False
        self.started_at = clock()

    def mark_synced(self) -> None:
        self.last_success = self.clock()

    def config_age_s(self) -> float | None:
        return None if self.last_success is None else self.clock() - self.last_success

    def is_stale(self) -> bool:
        age = self.config_age_s()
        return age is None or age > self.max_staleness_s

    def unavailable_reason(self) -> str | None:
        if self.sealed:
            return "proxy is sealed"
        if self.revoked:
            return "proxy cluster was revoked"
        if not self.loaded:
            return "configuration not loaded yet"
        if self.is_stale():
            return "configuration is stale: broker unreachable for longer than TSP_MAX_STALENESS"
        return None

    def tenant(self, tenant_id: object) -> TenantRuntime:
        """Exact-match lookup (P-05): no normalisation of case, whitespace or Unicode."""
        reason = self.unavailable_reason()
        if reason is not None:
            raise ServiceUnavailableError(reason)
        if not isinstance(tenant_id, str) or not tenant_id:
            raise ProxyError(errors.INVALID_REQUEST_BODY, "tenantId must be a non-empty string")
        runtime = self.tenants.get(tenant_id)
        if runtime is None:
            raise ProxyError(errors.UNKNOWN_TENANT_OR_NO_ACTIVE_KMS_CONFIGURATIONS)
        return runtime
