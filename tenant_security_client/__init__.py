"""OpenCMK Tenant Security Client: encrypt documents with keys the tenant controls.

Documents are encrypted locally with AES-256-GCM in IronCore Labs' v3 format; only data keys
travel to and from the Tenant Security Proxy. See docs/sdk.md for a five-minute tour::

    from tenant_security_client import RequestMetadata, TenantSecurityClient

    with TenantSecurityClient("https://tsp:7777", api_key) as client:
        meta = RequestMetadata(tenant_id="acme", requesting_id="billing-service")
        encrypted = client.encrypt({"ssn": b"000-12-3456"}, meta)
        plaintext = client.decrypt(encrypted, meta)
"""

from __future__ import annotations

from ._async_client import AsyncTenantSecurityClient
from ._cached_key import AsyncCachedKey, CachedKey
from ._client import TenantSecurityClient
from ._config import __version__
from ._deterministic import derive_key
from ._events import AdminEvent, CustomEvent, DataEvent, PeriodicEvent, SecurityEvent, UserEvent
from ._exceptions import (
    AlreadyEncryptedError,
    CachedKeyError,
    ClientError,
    ConfigurationError,
    DecryptionError,
    InvalidEdekError,
    InvalidRequestError,
    KmsAccountError,
    KmsAuthorizationError,
    KmsConfigurationDisabledError,
    KmsConfigurationInvalidError,
    KmsError,
    KmsThrottledError,
    KmsUnreachableError,
    KmsUnwrapError,
    KmsWrapError,
    NoPrimaryKmsConfigurationError,
    ProxyError,
    RequestTimeoutError,
    SecurityEventRejectedError,
    TenantSecurityError,
    TransportError,
    UnauthorizedError,
    UnknownTenantError,
)
from ._format import is_encrypted
from ._metadata import RequestMetadata
from ._models import (
    BatchResult,
    DeterministicEncryptedField,
    DeterministicPlaintextField,
    EncryptedDocument,
    PlaintextDocument,
)
from ._transport import RetryPolicy, Timeouts

__all__ = [
    "AdminEvent",
    "AlreadyEncryptedError",
    "AsyncCachedKey",
    "AsyncTenantSecurityClient",
    "BatchResult",
    "CachedKey",
    "CachedKeyError",
    "ClientError",
    "ConfigurationError",
    "CustomEvent",
    "DataEvent",
    "DecryptionError",
    "DeterministicEncryptedField",
    "DeterministicPlaintextField",
    "EncryptedDocument",
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
    "PeriodicEvent",
    "PlaintextDocument",
    "ProxyError",
    "RequestMetadata",
    "RequestTimeoutError",
    "RetryPolicy",
    "SecurityEvent",
    "SecurityEventRejectedError",
    "TenantSecurityClient",
    "TenantSecurityError",
    "Timeouts",
    "TransportError",
    "UnauthorizedError",
    "UnknownTenantError",
    "UserEvent",
    "__version__",
    "derive_key",
    "is_encrypted",
]
