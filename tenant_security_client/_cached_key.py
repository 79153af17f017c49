"""Cached document keys: one wrap or unwrap, then local encryption for a short, bounded time.

A cached key lets an application encrypt or decrypt many documents (for example inside one
database transaction) without a proxy round trip each. Its use is bounded by a lifetime and a
use count, and on close the key is wiped and the number of uses is reported to the proxy
(``document/report-operations``) so the tenant's audit trail still sees every operation.

The signed v3 header depends only on the DEK and tenant id, so it is computed once per cached
key instead of once per field; each field still gets a fresh random data IV. Decryption still
verifies each document's own header.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from types import TracebackType
from typing import NoReturn

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import _core as core
from . import _format as fmt
from ._buffer import Buffer
from ._exceptions import AlreadyEncryptedError, CachedKeyError, DecryptionError
from ._metadata import RequestMetadata
from ._models import DocumentFields, EncryptedDocument, PlaintextDocument

__all__ = ["AsyncCachedKey", "CachedKey"]

DEFAULT_MAX_AGE = 60.0  # seconds, as IronCore's Java client
DEFAULT_MAX_USES = 1_000_000
# NIST SP 800-38D §8.3 allows 2**32 random-IV encryptions under one key; uses count documents,
# so 2**24 documents leaves room for 256 fields each.
_HARD_MAX_USES = 2**24
_SMALL = 64 * 1024
_LEAD = b"\x03IRON"
_new = object.__new__


class _CachedKeyBase:
    __slots__ = (
        "_aes", "_ct_at", "_deadline", "_edek", "_iv_at", "_key", "_left", "_max_uses", "_meta",
        "_overhead", "_prefix", "_verified", "wraps",
    )  # fmt: skip

    def __init__(
        self,
        key: fmt.DataKey,
        edek: str,
        meta: RequestMetadata,
        *,
        max_age: float = DEFAULT_MAX_AGE,
        max_uses: int = DEFAULT_MAX_USES,
    ) -> None:
        if not 0 < max_age <= 3600:
            key.wipe()
            raise CachedKeyError("max_age must be between 0 and 3600 seconds")
        if not 0 < max_uses <= _HARD_MAX_USES:
            key.wipe()
            raise CachedKeyError("max_uses must be between 1 and 2**24")
        self._key: fmt.DataKey | None = key
        self._aes: AESGCM | None = key.aes
        self._edek = edek
        self._meta = meta
        self._deadline = time.monotonic() + max_age
        self._max_uses = max_uses
        self._left = max_uses  # uses remaining: one countdown serves the limit check and the count
        self.wraps = 0
        # Computed once per key: the signed header and the offsets of IV and ciphertext.
        self._prefix = fmt.build_prefix(key.aes, meta.tenant_id)
        self._iv_at = len(self._prefix)
        self._ct_at = self._iv_at + fmt.IV_LEN
        self._overhead = self._ct_at + fmt.TAG_LEN
        # Headers already verified under this DEK, starting with our own.
        self._verified: set[bytes] = {self._prefix}

    @property
    def edek(self) -> str:
        """The EDEK to store with every document encrypted by this key."""
        return self._edek

    @property
    def unwraps(self) -> int:
        """How many decryptions this key has performed."""
        return self._max_uses - self._left - self.wraps

    @property
    def closed(self) -> bool:
        """True once the key was closed (and wiped)."""
        return self._key is None

    def _refuse(self) -> NoReturn:
        """Raise the reason this key may not be used (the slow half of the per-call check)."""
        if self._aes is None:
            raise CachedKeyError("the cached key is closed")
        if time.monotonic() > self._deadline:
            raise CachedKeyError("the cached key has expired")
        raise CachedKeyError("the cached key has reached its use limit")

    # The four methods below are the hot path (a 1 KiB field costs about as much Python as AES):
    # each inlines the use check and the own-header fast path instead of calling helpers, and
    # every instruction in them shows up in the 1 KiB figures of docs/PERFORMANCE.md. Measured
    # (callgrind, CPython 3.11) and kept: slicing `value[:n] == prefix` beats `startswith` (its
    # argument parsing costs more than the copy); `time.monotonic` stays a module lookup so the
    # expiry check follows a patched clock.

    def encrypt(self, document: DocumentFields) -> EncryptedDocument:
        """Encrypt a document locally under the cached key (refuses already encrypted fields)."""
        aes = self._aes
        left = self._left
        if aes is None or left <= 0 or time.monotonic() > self._deadline:
            self._refuse()
        self._left = left - 1
        self.wraps += 1
        prefix = self._prefix
        urandom = os.urandom
        fields: dict[str, bytes | bytearray] = {}
        for name, value in document.items():
            if len(value) < _SMALL:
                if value[:5] == _LEAD and len(value) >= 7:
                    raise AlreadyEncryptedError("refusing to encrypt an already encrypted value")
                iv = urandom(12)  # NIST SP 800-38D §8.2.2: a fresh random 96-bit IV per field
                fields[name] = prefix + iv + aes.encrypt(iv, value, None)
            else:
                fields[name] = fmt.encrypt_field(aes, prefix, value)
        result = _new(EncryptedDocument)  # see _models: the same object the class call builds
        result.fields = fields
        result.edek = self._edek
        return result

    def decrypt(self, document: EncryptedDocument) -> PlaintextDocument:
        """Decrypt a document that was encrypted under this key's EDEK."""
        edek = self._edek
        theirs = document.edek
        if theirs is not edek and theirs != edek:
            # IronCore's CachedKey reports this as a decryption failure (902) as well.
            raise DecryptionError("the document was not encrypted with this cached key")
        aes = self._aes
        left = self._left
        if aes is None or left <= 0 or time.monotonic() > self._deadline:
            self._refuse()
        self._left = left - 1
        prefix, iv_at, ct_at, overhead = self._prefix, self._iv_at, self._ct_at, self._overhead
        fields = {}
        for name, value in document.fields.items():
            # A header byte-identical to the one this key wrote (and signed) needs no parse and
            # no signature check; the data tag is still verified. Anything else: full check.
            if value[:iv_at] == prefix and overhead <= len(value) < _SMALL:
                try:
                    # Plain slices: below 64 KiB a copy is cheaper than a memoryview.
                    fields[name] = aes.decrypt(value[iv_at:ct_at], value[ct_at:], None)
                except InvalidTag:
                    raise DecryptionError() from None
            else:
                fields[name] = fmt.decrypt_field(aes, value, self._verified)
        result = _new(PlaintextDocument)  # see _models: the same object the class call builds
        result.fields = fields
        result.edek = edek
        return result

    def encrypted_size(self, plaintext_len: int) -> int:
        """Size of the buffer :meth:`encrypt_into` needs for a plaintext of this length."""
        return self._overhead + plaintext_len

    def encrypt_into(self, plaintext: Buffer, out: bytearray | memoryview) -> int:
        """Encrypt one field into a caller-owned buffer (reuse it across large documents)."""
        aes = self._aes
        left = self._left
        if aes is None or left <= 0 or time.monotonic() > self._deadline:
            self._refuse()
        size = self._overhead + len(plaintext)
        if len(out) != size:
            raise ValueError(f"output buffer must be exactly {size} bytes")
        if plaintext[:5] == _LEAD and len(plaintext) >= 7:
            raise AlreadyEncryptedError("refusing to encrypt an already encrypted document")
        self._left = left - 1
        self.wraps += 1
        ct_at = self._ct_at
        iv = os.urandom(12)  # NIST SP 800-38D §8.2.2: a fresh random 96-bit IV per field
        view = memoryview(out)
        view[:ct_at] = self._prefix + iv
        aes.encrypt_into(iv, plaintext, None, view[ct_at:])
        return size

    def decrypt_into(self, ciphertext: Buffer, out: bytearray | memoryview) -> int:
        """Decrypt one field into a caller-owned buffer of exactly the plaintext length.

        On an integrity failure ``out`` is zeroed and the opaque :class:`DecryptionError` raised.
        """
        aes = self._aes
        left = self._left
        if aes is None or left <= 0 or time.monotonic() > self._deadline:
            self._refuse()
        self._left = left - 1
        iv_at = self._iv_at
        if ciphertext[:iv_at] != self._prefix:  # not our own header: parse and verify it
            return fmt.decrypt_field_into(aes, ciphertext, out, self._verified)
        size = len(ciphertext) - self._overhead
        if size < 0:
            raise DecryptionError()
        if len(out) != size:
            raise ValueError("output buffer must be exactly the plaintext length")
        ct_at = self._ct_at
        # Below 64 KiB copying the body is cheaper than a memoryview; above, zero-copy.
        body = ciphertext[ct_at:] if size < _SMALL else memoryview(ciphertext)[ct_at:]
        try:
            return aes.decrypt_into(ciphertext[iv_at:ct_at], body, None, out)
        except InvalidTag:
            # cryptography writes unverified plaintext into `out` before it checks the tag.
            out[:] = bytes(size)
            raise DecryptionError() from None

    def _close_local(self) -> core.Call | None:
        key, self._key, self._aes = self._key, None, None
        if key is None:
            return None
        key.wipe()
        self._verified.clear()
        if self._left == self._max_uses:
            return None
        return core.report_call(self._meta, self._edek, self.wraps, self.unwraps)

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{self._max_uses - self._left} uses"
        return f"{type(self).__name__}(tenant_id={self._meta.tenant_id!r}, {state})"


class CachedKey(_CachedKeyBase):
    """A document key held locally for a bounded time and number of uses; close it when done.

    Not thread-safe (its use counter is plain Python state): use one per thread or task.

    Use as a context manager::

        with client.create_cached_key(meta) as key:
            rows = [key.encrypt(doc) for doc in docs]
    """

    __slots__ = ("_report",)

    def __init__(
        self,
        key: fmt.DataKey,
        edek: str,
        meta: RequestMetadata,
        report: Callable[[core.Call], object],
        **limits: float,
    ) -> None:
        super().__init__(key, edek, meta, **limits)  # type: ignore[arg-type]
        self._report = report

    def close(self) -> None:
        """Wipe the key and report how often it was used to the proxy."""
        call = self._close_local()
        if call is not None:
            self._report(call)

    def __enter__(self) -> CachedKey:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncCachedKey(_CachedKeyBase):
    """The asyncio twin of :class:`CachedKey`: local crypto is synchronous, closing is awaited."""

    __slots__ = ("_report",)

    def __init__(
        self,
        key: fmt.DataKey,
        edek: str,
        meta: RequestMetadata,
        report: Callable[[core.Call], object],
        **limits: float,
    ) -> None:
        super().__init__(key, edek, meta, **limits)  # type: ignore[arg-type]
        self._report = report

    async def aclose(self) -> None:
        """Wipe the key and report how often it was used to the proxy."""
        call = self._close_local()
        if call is not None:
            await self._report(call)  # type: ignore[misc]

    async def __aenter__(self) -> AsyncCachedKey:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
