"""Deterministic field encryption (DESIGN.md §7), byte-compatible with IronCore's clients.

A deterministic field is ``u32 BE tenant_secret_id | 0x00 0x00 | AES-SIV(key, plaintext)`` where
``key`` = HMAC-SHA512(tenant secret, ``tenant_id + "-" + derivation_path``), derived by the proxy
(``key/derive-with-secret-path``) and never by the client. AES-SIV (RFC 5297) with no associated
data makes equal plaintexts give equal ciphertexts, which is what makes equality search possible;
it also reveals equality, which is the documented price.

Measured against ironcore-alloy 0.16.1 (tests/client/test_alloy_interop.py): alloy encrypts
deterministic fields with one *empty* associated-data string, TSC clients (and this SDK, per
IronCore's vector) with none, so their ciphertexts differ. This SDK writes the TSC form and reads
both.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from ._buffer import Buffer
from ._exceptions import DecryptionError, NoPrimaryKmsConfigurationError
from ._format import wipe

__all__ = [
    "DerivedKey",
    "DerivedKeySet",
    "decrypt_with",
    "derive_key",
    "encrypt_with",
    "secret_id_of",
]

_HEADER = struct.Struct(">IH")
HEADER_LEN = _HEADER.size  # 6
_SIV_LEN = 16
DERIVED_KEY_LEN = 64
_READ_AD: tuple[list[bytes] | None, ...] = (None, [b""])  # TSC first, then ironcore-alloy


def derive_key(tenant_secret: bytes, tenant_id: str, derivation_path: str) -> bytes:
    """The proxy's derivation, for disaster recovery and tests: HMAC-SHA512 of the path."""
    message = f"{tenant_id}-{derivation_path}".encode()
    return hmac.new(tenant_secret, message, hashlib.sha512).digest()


@dataclass(slots=True)
class DerivedKey:
    """One derived key: its tenant secret id, whether it is the current one, and the key bytes."""

    tenant_secret_id: int
    current: bool
    key: bytearray

    def __post_init__(self) -> None:
        if not 0 <= self.tenant_secret_id <= 0xFFFFFFFF:
            raise DecryptionError("tenant secret id out of range")
        if len(self.key) != DERIVED_KEY_LEN:
            raise DecryptionError("derived key has the wrong length")

    def __repr__(self) -> str:
        return f"DerivedKey(tenant_secret_id={self.tenant_secret_id}, current={self.current})"


@dataclass(slots=True)
class DerivedKeySet:
    """All keys the proxy returned for one (secret path, derivation path)."""

    keys: list[DerivedKey]
    has_primary_config: bool

    def current(self) -> DerivedKey:
        """The key new ciphertexts must use; refuses when the tenant has no primary config."""
        # IronCore's clients refuse deterministic encryption without a primary KMS config.
        if not self.has_primary_config:
            raise NoPrimaryKmsConfigurationError("tenant has no primary KMS configuration")
        for key in self.keys:
            if key.current:
                return key
        raise NoPrimaryKmsConfigurationError("no current tenant secret for this path")

    def by_id(self, tenant_secret_id: int) -> DerivedKey:
        """The key with the given tenant secret id; unknown ids are an integrity failure."""
        for key in self.keys:
            if key.tenant_secret_id == tenant_secret_id:
                return key
        raise DecryptionError()

    def wipe(self) -> None:
        """Zero every derived key."""
        for key in self.keys:
            wipe(key.key)


def encrypt_with(key: DerivedKey, plaintext: Buffer) -> bytes:
    """Encrypt one value deterministically under ``key``."""
    siv = AESSIV(key.key)
    return _HEADER.pack(key.tenant_secret_id, 0) + siv.encrypt(bytes(plaintext), None)


def secret_id_of(ciphertext: Buffer) -> int:
    """The tenant secret id a deterministic field was encrypted under."""
    view = memoryview(ciphertext)
    if len(view) < HEADER_LEN + _SIV_LEN:
        raise DecryptionError()
    secret_id, padding = _HEADER.unpack_from(view, 0)
    if padding != 0:
        raise DecryptionError()
    return int(secret_id)


def decrypt_with(keys: DerivedKeySet, ciphertext: Buffer) -> bytes:
    """Decrypt a deterministic field with the key its header names."""
    key = keys.by_id(secret_id_of(ciphertext))
    siv = AESSIV(key.key)
    body = bytes(memoryview(ciphertext)[HEADER_LEN:])
    # IronCore's TSC clients use S2V with no associated data; ironcore-alloy passes one empty
    # AD string, which S2V treats differently. Both are authenticated under the same key, so
    # reading either costs at most one bit of forgery margin (2**-127 instead of 2**-128).
    for associated_data in _READ_AD:
        try:
            return siv.decrypt(body, associated_data)
        except InvalidTag:
            continue
    raise DecryptionError()


def search_terms(keys: DerivedKeySet, plaintext: Buffer) -> list[bytes]:
    """The value encrypted under every returned key (current and in rotation), for queries."""
    return [encrypt_with(key, plaintext) for key in _ordered(keys.keys)]


def _ordered(keys: Iterable[DerivedKey]) -> list[DerivedKey]:
    # Current key first, so callers that only want one term can take the first.
    return sorted(keys, key=lambda k: not k.current)
