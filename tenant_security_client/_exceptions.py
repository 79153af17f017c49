"""Exceptions raised by the Tenant Security Client.

Every exception derives from :class:`TenantSecurityError` and carries the numeric ``code`` that
IronCore's clients use (0 for network failures, 1xx proxy, 2xx KMS, 3xx security events, 9xx
client-side). The tree::

    TenantSecurityError
    ├── ConfigurationError                 client built with invalid settings (e.g. http:// URL)
    ├── TransportError (0)                 the proxy could not be reached or answered garbage
    │   └── RequestTimeoutError (0)        connect/read timeout or overall deadline exceeded
    ├── ProxyError (100-199)               the proxy refused the request
    │   ├── UnauthorizedError (101)
    │   └── InvalidRequestError (102)
    ├── KmsError (200-299)                 the tenant's KMS configuration or KMS failed
    │   ├── NoPrimaryKmsConfigurationError (200)
    │   ├── UnknownTenantError (201)
    │   ├── KmsConfigurationDisabledError (202)
    │   ├── InvalidEdekError (203)
    │   ├── KmsWrapError (204)
    │   ├── KmsUnwrapError (205)
    │   ├── KmsAuthorizationError (206)
    │   ├── KmsConfigurationInvalidError (207)
    │   ├── KmsUnreachableError (208)
    │   ├── KmsThrottledError (209)
    │   └── KmsAccountError (210)
    ├── SecurityEventRejectedError (301)
    └── ClientError (900-999)              raised locally, never by the proxy
        ├── AlreadyEncryptedError (901)    refusing to encrypt something that is already a document
        ├── DecryptionError (902)          THE opaque integrity error: every failed check raises it
        └── CachedKeyError (900)           a cached key was used after expiry, too often, or closed

``DecryptionError`` deliberately says nothing about *which* check failed (header signature, tag,
length, tenant secret id): distinguishing them would hand an attacker a decryption oracle.
"""

from __future__ import annotations

__all__ = [
    "AlreadyEncryptedError",
    "CachedKeyError",
    "ClientError",
    "ConfigurationError",
    "DecryptionError",
    "InvalidEdekError",
    "InvalidRequestError",
    "KmsAccountError",
    "KmsAuthorizationError",
    "KmsConfigurationDisabledError",
    "KmsConfigurationInvalidError",
    "KmsError",
    "KmsThrottledError",
    "KmsUnreachableError",
    "KmsUnwrapError",
    "KmsWrapError",
    "NoPrimaryKmsConfigurationError",
    "ProxyError",
    "RequestTimeoutError",
    "SecurityEventRejectedError",
    "TenantSecurityError",
    "TransportError",
    "UnauthorizedError",
    "UnknownTenantError",
    "error_from_code",
]


class TenantSecurityError(Exception):
    """Root of every error the SDK raises; ``code`` is IronCore's numeric error code."""

    code: int = 100

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        """The human-readable message (never contains keys or plaintext)."""
        return str(self.args[0]) if self.args else ""


class ConfigurationError(TenantSecurityError, ValueError):
    """The client was configured with invalid settings (bad URL, insecure HTTP, bad API key)."""

    code = 900


class TransportError(TenantSecurityError):
    """The proxy could not be reached, the connection broke, or it answered with no valid body."""

    code = 0


class RequestTimeoutError(TransportError):
    """A connect or read timeout expired, or the overall deadline of a call ran out."""


class ProxyError(TenantSecurityError):
    """The proxy rejected the request (codes 100-199)."""

    code = 100


class UnauthorizedError(ProxyError):
    """The API key was not accepted (101)."""

    code = 101


class InvalidRequestError(ProxyError):
    """The proxy found the request body invalid (102)."""

    code = 102


class KmsError(TenantSecurityError):
    """The tenant's KMS configuration or the KMS call failed (codes 200-299)."""

    code = 200


class NoPrimaryKmsConfigurationError(KmsError):
    """The tenant has no primary KMS configuration, so nothing can be wrapped (200)."""

    code = 200


class UnknownTenantError(KmsError):
    """The tenant does not exist or has no active KMS configuration (201)."""

    code = 201


class KmsConfigurationDisabledError(KmsError):
    """The KMS configuration that wrapped this EDEK has been disabled by the tenant (202)."""

    code = 202


class InvalidEdekError(KmsError):
    """The proxy could not parse the encrypted document key (203)."""

    code = 203


class KmsWrapError(KmsError):
    """The KMS answered a wrap request with something unusable (204)."""

    code = 204


class KmsUnwrapError(KmsError):
    """The KMS answered an unwrap request with something unusable (205)."""

    code = 205


class KmsAuthorizationError(KmsError):
    """The tenant's KMS credentials are invalid or were revoked (206)."""

    code = 206


class KmsConfigurationInvalidError(KmsError):
    """The tenant's key configuration or its permissions are invalid (207)."""

    code = 207


class KmsUnreachableError(KmsError):
    """The proxy could not reach the tenant's KMS (208); the proxy has already retried."""

    code = 208


class KmsThrottledError(KmsError):
    """The tenant's KMS throttled the proxy (209); the proxy has already backed off."""

    code = 209


class KmsAccountError(KmsError):
    """The tenant's KMS account has a problem (210)."""

    code = 210


class SecurityEventRejectedError(TenantSecurityError):
    """The proxy could not accept a security event (301)."""

    code = 301


class ClientError(TenantSecurityError):
    """An error detected locally by the SDK (codes 900-999)."""

    code = 900


class AlreadyEncryptedError(ClientError, ValueError):
    """Refused to encrypt a value that already is an encrypted document (901)."""

    code = 901


class DecryptionError(ClientError):
    """Decryption failed. Opaque on purpose: raised for every integrity or format failure."""

    code = 902

    def __init__(self, message: str = "decryption failed", *, code: int | None = None) -> None:
        super().__init__(message, code=code)


class CachedKeyError(ClientError):
    """A cached key was used after it expired, exceeded its use count, or was closed (900)."""

    code = 900


_BY_CODE: dict[int, type[TenantSecurityError]] = {
    cls.code: cls
    for cls in (
        UnauthorizedError,
        InvalidRequestError,
        NoPrimaryKmsConfigurationError,
        UnknownTenantError,
        KmsConfigurationDisabledError,
        InvalidEdekError,
        KmsWrapError,
        KmsUnwrapError,
        KmsAuthorizationError,
        KmsConfigurationInvalidError,
        KmsUnreachableError,
        KmsThrottledError,
        KmsAccountError,
        SecurityEventRejectedError,
    )
}


def error_from_code(code: int, message: str) -> TenantSecurityError:
    """Map an error ``{"code", "message"}`` from the proxy onto the exception tree."""
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls(message, code=code)
    if 100 <= code < 200:
        return ProxyError(message, code=code)
    if 200 <= code < 300:
        return KmsError(message, code=code)
    if 300 <= code < 400:
        return SecurityEventRejectedError(message, code=code)
    if code == 0:
        return TransportError(message, code=0)
    # Unknown codes (including 9xx, which a proxy must never send) are reported as generic.
    return ProxyError(message, code=code)
