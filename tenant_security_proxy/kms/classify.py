"""Errors of KMS calls, and their classification into IronCore's codes 204-210 (DESIGN.md §6.3).

Provider modules translate their SDK's exceptions at the boundary with the helpers here, so the
rest of the proxy only ever sees `KmsError`. Messages name the provider, the operation and the
KMS's own error code; they never contain key material, plaintext, ciphertext or credentials.
"""

from __future__ import annotations

from tenant_security_proxy.errors import (
    KMS_ACCOUNT_ISSUE,
    KMS_AUTHORIZATION_FAILED,
    KMS_CONFIGURATION_INVALID,
    KMS_THROTTLED,
    KMS_UNREACHABLE,
    KMS_UNWRAP_FAILED,
    KMS_WRAP_FAILED,
    ProxyError,
)

__all__ = [
    "KMS_ACCOUNT_ISSUE",
    "KMS_AUTHORIZATION_FAILED",
    "KMS_CONFIGURATION_INVALID",
    "KMS_THROTTLED",
    "KMS_UNREACHABLE",
    "KMS_UNWRAP_FAILED",
    "KMS_WRAP_FAILED",
    "KmsError",
    "config_invalid",
    "from_http_status",
    "operation_failed",
    "unreachable",
]

# Availability failures: the only ones that say something about the KMS endpoint's health, so
# the only ones the circuit breaker counts. 205 for a garbage EDEK must not let a caller trip
# a tenant's breaker, and 206/207 are answers from a healthy KMS.
_BREAKER_CODES = frozenset({KMS_UNREACHABLE, KMS_THROTTLED})


class KmsError(ProxyError):
    """A call to a tenant's KMS failed; `code` is one of 204-210.

    `retryable` is true only for connection-level failures (refused, reset, DNS) where the
    request can be sent again safely; timeouts are not retryable because the time is spent.
    """

    def __init__(
        self,
        code: int,
        message: str,
        *,
        retryable: bool = False,
        counts_for_breaker: bool | None = None,
        from_kms: bool = True,
    ) -> None:
        if not KMS_WRAP_FAILED <= code <= KMS_ACCOUNT_ISSUE:
            raise ValueError(f"KmsError code must be 204..210, not {code}")
        super().__init__(code, message)
        self.retryable = retryable
        # False when the proxy refused the call itself (breaker open, bulkhead full): such an
        # error says nothing about the KMS's health either way.
        self.from_kms = from_kms
        self.counts_for_breaker = (
            code in _BREAKER_CODES if counts_for_breaker is None else counts_for_breaker
        )


def operation_failed(operation: str, detail: str) -> KmsError:
    """204 for a wrap, 205 for an unwrap: the KMS answered but refused or returned bad data."""
    code = KMS_UNWRAP_FAILED if operation == "unwrap" else KMS_WRAP_FAILED
    return KmsError(code, f"{operation} failed: {detail}")


def config_invalid(detail: str) -> KmsError:
    return KmsError(KMS_CONFIGURATION_INVALID, f"KMS configuration invalid: {detail}")


def unreachable(detail: str, *, retryable: bool) -> KmsError:
    return KmsError(KMS_UNREACHABLE, f"KMS unreachable: {detail}", retryable=retryable)


def from_http_status(status: int, operation: str, detail: str) -> KmsError:
    """Maps an HTTP error status from a KMS REST API to a code; `detail` is the KMS's error."""
    if status == 401:
        return KmsError(KMS_AUTHORIZATION_FAILED, f"KMS rejected the credentials: {detail}")
    if status in (403, 404):
        # Missing permission or missing key: both are the tenant's configuration to fix.
        return config_invalid(detail)
    if status == 429:
        return KmsError(KMS_THROTTLED, f"KMS throttled the request: {detail}")
    if status >= 500:
        return unreachable(f"HTTP {status}: {detail}", retryable=False)
    return operation_failed(operation, detail)
