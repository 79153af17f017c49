"""The protocol every KMS provider implements, and config-field helpers they share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from tenant_security_proxy.kms.classify import KmsError, config_invalid


class KmsProvider(Protocol):
    """A synchronous KMS adapter; `KmsClient` runs it in a bounded thread pool.

    `wrap`/`unwrap` raise `KmsError` (already classified) or any SDK exception, which the
    client passes to `classify`. Implementations build their SDK client once, in `prepare`
    (which KmsClient runs before the first call, outside the call's deadline, so that loading
    thousands of tenant configs stays cheap and SDK warm-up never looks like a KMS timeout).
    """

    provider: str
    endpoint: str  # where calls go: one circuit breaker per (tenant, endpoint)

    def prepare(self) -> None:
        """Builds the SDK client (imports, models, key parsing); no network I/O. Idempotent."""
        ...

    def wrap(self, dek: bytes) -> bytes: ...

    def unwrap(self, data: bytes) -> bytes: ...

    def classify(self, exc: BaseException, operation: str) -> KmsError: ...

    def close(self) -> None: ...


def require_str(config: Mapping[str, Any], name: str, provider: str) -> str:
    """The value of a required non-empty string field; 207 naming the field (never its value)."""
    value = config.get(name)
    if value is None or value == "":
        raise config_invalid(f"{provider} config is missing '{name}'")
    if not isinstance(value, str):
        raise config_invalid(f"{provider} config field '{name}' must be a string")
    return value


def optional_str(config: Mapping[str, Any], name: str, provider: str) -> str | None:
    value = config.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise config_invalid(f"{provider} config field '{name}' must be a string")
    return value
