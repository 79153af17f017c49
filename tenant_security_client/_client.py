"""The blocking client."""

from __future__ import annotations

import ssl
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, BinaryIO, TypeVar

from . import _core as core
from . import _operations as ops
from ._cached_key import DEFAULT_MAX_AGE, DEFAULT_MAX_USES, CachedKey
from ._config import make_settings
from ._events import SecurityEvent
from ._metadata import RequestMetadata
from ._models import (
    BatchResult,
    DeterministicEncryptedField,
    DeterministicPlaintextField,
    DocumentFields,
    EncryptedDocument,
    PlaintextDocument,
)
from ._transport import RetryPolicy, SyncTransport, Timeouts

__all__ = ["TenantSecurityClient"]

T = TypeVar("T")


class TenantSecurityClient:
    """Encrypts and decrypts documents locally; only data keys travel to and from the proxy.

    ``url`` is the proxy's base URL (``https://tsp.internal:7777``); plain ``http://`` is refused
    unless ``allow_insecure_http=True`` (for loopback and tests). The client is thread-safe and
    keeps a pool of keep-alive connections; close it (or use it as a context manager) when done.
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        allow_insecure_http: bool = False,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        pool_size: int = 10,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        settings = make_settings(
            url,
            api_key,
            allow_insecure_http=allow_insecure_http,
            timeouts=timeouts,
            retry=retry,
            pool_size=pool_size,
            ssl_context=ssl_context,
        )
        self._transport = SyncTransport(
            settings.endpoint,
            settings.headers,
            timeouts=settings.timeouts,
            retry=settings.retry,
            pool_size=settings.pool_size,
            ssl_context=settings.ssl_context,
        )
        self._url = url

    def __repr__(self) -> str:
        return f"TenantSecurityClient({self._url!r})"

    def _call(self, call: core.Call) -> Any:
        status, body = self._transport.post(call.route, call.body, retry_safe=call.retry_safe)
        return core.decode_response(status, body)

    def _run(self, operation: ops.Operation[T]) -> T:
        try:
            call = next(operation)
            while True:
                call = operation.send(self._call(call))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        finally:
            operation.close()  # runs the operation's key-wiping `finally` blocks on errors too

    def encrypt(self, document: DocumentFields, metadata: RequestMetadata) -> EncryptedDocument:
        """Encrypt every field of ``document`` under a new data key for ``metadata.tenant_id``."""
        return self._run(ops.encrypt(metadata, document))

    def encrypt_with_existing_key(
        self, document: DocumentFields, edek: str, metadata: RequestMetadata
    ) -> EncryptedDocument:
        """Encrypt ``document`` under the data key that ``edek`` already wraps."""
        return self._run(ops.encrypt_with_existing_key(metadata, document, edek))

    def decrypt(self, document: EncryptedDocument, metadata: RequestMetadata) -> PlaintextDocument:
        """Decrypt every field; raises :class:`DecryptionError` if any field fails to verify."""
        return self._run(ops.decrypt(metadata, document))

    def encrypt_batch(
        self, documents: Mapping[str, DocumentFields], metadata: RequestMetadata
    ) -> BatchResult[EncryptedDocument]:
        """Encrypt many documents with one proxy call; failures are reported per document id."""
        return self._run(ops.encrypt_batch(metadata, documents))

    def decrypt_batch(
        self, documents: Mapping[str, EncryptedDocument], metadata: RequestMetadata
    ) -> BatchResult[PlaintextDocument]:
        """Decrypt many documents with one proxy call; failures are reported per document id."""
        return self._run(ops.decrypt_batch(metadata, documents))

    def rekey_edek(self, edek: str, new_tenant_id: str, metadata: RequestMetadata) -> str:
        """Re-wrap a document's key for ``new_tenant_id`` (or the tenant's new primary config).

        The encrypted fields do not change; store the returned EDEK in place of the old one.
        """
        return self._run(ops.rekey(metadata, edek, new_tenant_id))

    def encrypt_stream(self, src: BinaryIO, dst: BinaryIO, metadata: RequestMetadata) -> str:
        """Encrypt a file-like ``src`` into ``dst`` in constant memory; return the EDEK."""
        return self._run(ops.encrypt_stream(metadata, src, dst))

    def decrypt_stream(
        self, src: BinaryIO, dst: BinaryIO, edek: str, metadata: RequestMetadata
    ) -> int:
        """Decrypt ``src`` into ``dst`` in constant memory; write nothing unless it verifies.

        Returns the number of plaintext bytes written.
        """
        return self._run(ops.decrypt_stream(metadata, edek, src, dst))

    def deterministic_encrypt(
        self, field: DeterministicPlaintextField, metadata: RequestMetadata
    ) -> DeterministicEncryptedField:
        """Encrypt a value so that equal values give equal ciphertexts (for equality search)."""
        return self._run(ops.deterministic_encrypt(metadata, field))

    def deterministic_decrypt(
        self, field: DeterministicEncryptedField, metadata: RequestMetadata
    ) -> DeterministicPlaintextField:
        """Decrypt a deterministically encrypted value."""
        return self._run(ops.deterministic_decrypt(metadata, field))

    def deterministic_rotate(
        self, field: DeterministicEncryptedField, metadata: RequestMetadata
    ) -> DeterministicEncryptedField:
        """Re-encrypt a value under the tenant's current secret (unchanged if already current)."""
        return self._run(ops.deterministic_rotate(metadata, field))

    def deterministic_search_terms(
        self, field: DeterministicPlaintextField, metadata: RequestMetadata
    ) -> list[DeterministicEncryptedField]:
        """Encryptions of a query value under every live secret (current first)."""
        return self._run(ops.search_terms(metadata, field))

    def log_security_event(
        self,
        event: SecurityEvent,
        metadata: RequestMetadata,
        *,
        timestamp_millis: int | None = None,
    ) -> None:
        """Send a security event to the tenant's logging system through the proxy."""
        when = timestamp_millis if timestamp_millis is not None else int(time.time() * 1000)
        self._run(ops.security_event(metadata, str(event), when))

    def create_cached_key(
        self,
        metadata: RequestMetadata,
        *,
        max_age: float = DEFAULT_MAX_AGE,
        max_uses: int = DEFAULT_MAX_USES,
    ) -> CachedKey:
        """Wrap one new data key and keep it for local encryption (bounded age and uses)."""
        key, edek = self._run(ops.new_key(metadata))
        return CachedKey(key, edek, metadata, self._call, max_age=max_age, max_uses=max_uses)

    def load_cached_key(
        self,
        edek: str,
        metadata: RequestMetadata,
        *,
        max_age: float = DEFAULT_MAX_AGE,
        max_uses: int = DEFAULT_MAX_USES,
    ) -> CachedKey:
        """Unwrap an existing EDEK once and keep its key for local use (bounded age and uses)."""
        key = self._run(ops.existing_key(metadata, edek))
        return CachedKey(key, edek, metadata, self._call, max_age=max_age, max_uses=max_uses)

    def close(self) -> None:
        """Close the pooled connections."""
        self._transport.close()

    def __enter__(self) -> TenantSecurityClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
