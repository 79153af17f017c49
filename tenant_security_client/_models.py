"""Plain result and input types shared by the sync and async clients."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ._buffer import Buffer
from ._exceptions import TenantSecurityError

__all__ = [
    "BatchResult",
    "DeterministicEncryptedField",
    "DeterministicPlaintextField",
    "EncryptedDocument",
    "PlaintextDocument",
]

T = TypeVar("T")

# CachedKey's hot path builds EncryptedDocument and PlaintextDocument with object.__new__ and two
# attribute stores (the dataclass __init__ call costs a Python frame per document). Keep both
# classes plain: no __post_init__, no defaults, no validation in __init__ (a test pins this).


@dataclass(slots=True)
class EncryptedDocument:
    """An encrypted document: each field an IronCore v3 encrypted value, plus the document's EDEK.

    Store ``edek`` next to the fields: it is the only way back to the document key.
    """

    fields: dict[str, bytes | bytearray]
    edek: str

    def __repr__(self) -> str:
        return f"EncryptedDocument(fields={sorted(self.fields)!r}, edek=<{len(self.edek)} chars>)"


@dataclass(slots=True)
class PlaintextDocument:
    """A decrypted document (field name to plaintext bytes) and the EDEK it was decrypted with."""

    fields: dict[str, bytes]
    edek: str

    def __repr__(self) -> str:
        # Never show plaintext in logs or tracebacks.
        return f"PlaintextDocument(fields={sorted(self.fields)!r}, edek=<redacted>)"


@dataclass(slots=True)
class BatchResult(Generic[T]):
    """Result of a batch call: per-document successes and per-document failures."""

    successes: dict[str, T] = field(default_factory=dict)
    failures: dict[str, TenantSecurityError] = field(default_factory=dict)

    @property
    def has_failures(self) -> bool:
        """True if at least one document failed."""
        return bool(self.failures)


@dataclass(frozen=True, slots=True)
class DeterministicPlaintextField:
    """A value to encrypt deterministically, with the secret and derivation paths that pick its key.

    ``secret_path`` selects the tenant secret (e.g. a table), ``derivation_path`` the column; only
    values encrypted under the same pair can be compared.
    """

    plaintext: bytes
    derivation_path: str
    secret_path: str


@dataclass(frozen=True, slots=True)
class DeterministicEncryptedField:
    """A deterministically encrypted value and the paths its key was derived from."""

    ciphertext: bytes
    derivation_path: str
    secret_path: str


DocumentFields = Mapping[str, Buffer]
"""Input documents: a mapping of field name to bytes-like plaintext."""
