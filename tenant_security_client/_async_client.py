"""The asyncio client: the same operations as the blocking one, driven with ``await``."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, BinaryIO, TypeVar

from . import _core as core
from . import _operations as ops
from ._async_transport import AsyncTransport
from ._cached_key import DEFAULT_MAX_AGE, DEFAULT_MAX_USES, AsyncCachedKey
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
from ._transport import RetryPolicy, Timeouts

__all__ = ["AsyncTenantSecurityClient"]

T = TypeVar("T")


class _Done:
    """The result of an operation finished in a worker thread (StopIteration cannot cross)."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value


def _step(operation: ops.Operation[Any], answer: Any) -> core.Call | _Done:
    try:
        return operation.send(answer)
    except StopIteration as done:
        return _Done(done.value)


class AsyncTenantSecurityClient:
    """Encrypts and decrypts documents locally; only data keys travel to and from the proxy.

    ``url`` is the proxy's base URL (``https://tsp.internal:7777``); plain ``http://`` is refused
    unless ``allow_insecure_http=True`` (for loopback and tests). The client is thread-safe and
    keeps a pool of keep-alive connections; close it (or use it as a context manager) when done.

    Use one instance per event loop. Streaming calls run their file I/O and cryptography in a
    worker thread so the loop stays responsive; document calls encrypt inline (microseconds).
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
        self._transport = AsyncTransport(
            settings.endpoint,
            settings.headers,
            timeouts=settings.timeouts,
            retry=settings.retry,
            pool_size=settings.pool_size,
            ssl_context=settings.ssl_context,
        )
        self._url = url

    def __repr__(self) -> str:
        return f"AsyncTenantSecurityClient({self._url!r})"

    async def _call(self, call: core.Call) -> Any:
        status, body = await self._transport.post(call.route, call.body, retry_safe=call.retry_safe)
        return core.decode_response(status, body)

    async def _run(self, operation: ops.Operation[T], *, offload: bool = False) -> T:
        try:
            call = next(operation)
            while True:
                answer = await self._call(call)
                if offload:
                    step = await asyncio.to_thread(_step, operation, answer)
                    if isinstance(step, _Done):
                        return step.value  # type: ignore[return-value]
                    call = step
                else:
                    call = operation.send(answer)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        finally:
            operation.close()  # runs the operation's key-wiping `finally` blocks on errors too

    async def encrypt(
        self, document: DocumentFields, metadata: RequestMetadata
    ) -> EncryptedDocument:
        """Encrypt every field of ``document`` under a new data key for ``metadata.tenant_id``."""
        return await self._run(ops.encrypt(metadata, document))

    async def encrypt_with_existing_key(
        self, document: DocumentFields, edek: str, metadata: RequestMetadata
    ) -> EncryptedDocument:
        """Encrypt ``document`` under the data key that ``edek`` already wraps."""
        return await self._run(ops.encrypt_with_existing_key(metadata, document, edek))

    async def decrypt(
        self, document: EncryptedDocument, metadata: RequestMetadata
    ) -> PlaintextDocument:
        """Decrypt every field; raises :class:`DecryptionError` if any field fails to verify."""
        return await self._run(ops.decrypt(metadata, document))

    async def encrypt_batch(
        self, documents: Mapping[str, DocumentFields], metadata: RequestMetadata
    ) -> BatchResult[EncryptedDocument]:
        """Encrypt many documents with one proxy call; failures are reported per document id."""
        return await self._run(ops.encrypt_batch(metadata, documents))

    async def decrypt_batch(
        self, documents: Mapping[str, EncryptedDocument], metadata: RequestMetadata
    ) -> BatchResult[PlaintextDocument]:
        """Decrypt many documents with one proxy call; failures are reported per document id."""
        return await self._run(ops.decrypt_batch(metadata, documents))

    async def rekey_edek(self, edek: str, new_tenant_id: str, metadata: RequestMetadata) -> str:
        """Re-wrap a document's key for ``new_tenant_id`` (or the tenant's new primary config).

        The encrypted fields do not change; store the returned EDEK in place of the old one.
        """
        return await self._run(ops.rekey(metadata, edek, new_tenant_id))

    async def encrypt_stream(self, src: BinaryIO, dst: BinaryIO, metadata: RequestMetadata) -> str:
        """Encrypt a file-like ``src`` into ``dst`` in constant memory; return the EDEK."""
        return await self._run(ops.encrypt_stream(metadata, src, dst), offload=True)

    async def decrypt_stream(
        self, src: BinaryIO, dst: BinaryIO, edek: str, metadata: RequestMetadata
    ) -> int:
        """Decrypt ``src`` into ``dst`` in constant memory; write nothing unless it verifies.

        Returns the number of plaintext bytes written.
        """
        return await self._run(ops.decrypt_stream(metadata, edek, src, dst), offload=True)

    async def deterministic_encrypt(
        self, field: DeterministicPlaintextField, metadata: RequestMetadata
    ) -> DeterministicEncryptedField:
        """Encrypt a value so that equal values give equal ciphertexts (for equality search)."""
        return await self._run(ops.deterministic_encrypt(metadata, field))

    async def deterministic_decrypt(
        self, field: DeterministicEncryptedField, metadata: RequestMetadata
    ) -> DeterministicPlaintextField:
        """Decrypt a deterministically encrypted value."""
        return await self._run(ops.deterministic_decrypt(metadata, field))

    async def deterministic_rotate(
        self, field: DeterministicEncryptedField, metadata: RequestMetadata
    ) -> DeterministicEncryptedField:
        """Re-encrypt a value under the tenant's current secret (unchanged if already current)."""
        return await self._run(ops.deterministic_rotate(metadata, field))

    async def deterministic_search_terms(
        self, field: DeterministicPlaintextField, metadata: RequestMetadata
    ) -> list[DeterministicEncryptedField]:
        """Encryptions of a query value under every live secret (current first)."""
        return await self._run(ops.search_terms(metadata, field))

    async def log_security_event(
        self,
        event: SecurityEvent,
        metadata: RequestMetadata,
        *,
        timestamp_millis: int | None = None,
    ) -> None:
        """Send a security event to the tenant's logging system through the proxy."""
        when = timestamp_millis if timestamp_millis is not None else int(time.time() * 1000)
        await self._run(ops.security_event(metadata, str(event), when))

    async def create_cached_key(
        self,
        metadata: RequestMetadata,
        *,
        max_age: float = DEFAULT_MAX_AGE,
        max_uses: int = DEFAULT_MAX_USES,
    ) -> AsyncCachedKey:
        """Wrap one new data key and keep it for local encryption (bounded age and uses)."""
        key, edek = await self._run(ops.new_key(metadata))
        return AsyncCachedKey(key, edek, metadata, self._call, max_age=max_age, max_uses=max_uses)

    async def load_cached_key(
        self,
        edek: str,
        metadata: RequestMetadata,
        *,
        max_age: float = DEFAULT_MAX_AGE,
        max_uses: int = DEFAULT_MAX_USES,
    ) -> AsyncCachedKey:
        """Unwrap an existing EDEK once and keep its key for local use (bounded age and uses)."""
        key = await self._run(ops.existing_key(metadata, edek))
        return AsyncCachedKey(key, edek, metadata, self._call, max_age=max_age, max_uses=max_uses)

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncTenantSecurityClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
