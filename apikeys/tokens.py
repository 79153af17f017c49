"""The API key format (ACCEPTANCE K-01), modelled on GitHub's tokens.

``ocv_`` (vendor) or ``oct_`` (tenant) + 30 base62 characters from ``secrets`` (178 bits)
+ 6 base62 characters of CRC32 over everything before them. The checksum lets us (and secret
scanners, K-09) reject a mistyped or made-up key without touching the database; CRC32 detects
every single-character change. The first 8 secret characters form the public *prefix*
(``ocv_AbCd1234``): indexed for lookup, shown in the portal, written to the audit log.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import zlib
from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
KIND_TAGS = {"vendor": "ocv_", "tenant": "oct_"}
SECRET_LENGTH = 30  # 30 * log2(62) = 178.6 bits
CHECKSUM_LENGTH = 6  # 62**6 > 2**32
_SECRET_SPACE = 62**SECRET_LENGTH
PREFIX_SECRET_CHARS = 8
KEY_RE = re.compile(r"\Aoc[vt]_[0-9A-Za-z]{36}\Z")
# For secret scanners (K-09); the same shape without anchors.
SCAN_RE = r"\boc[vt]_[0-9A-Za-z]{36}\b"


def _base62(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 62)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LENGTH)


_DIGITS = {char: value for value, char in enumerate(ALPHABET)}


def _decode62(text: str) -> int:
    value = 0
    for char in text:
        value = value * 62 + _DIGITS[char]
    return value


@dataclass(frozen=True)
class NewKey:
    """A freshly minted key; ``secret`` exists only here and in the one response showing it."""

    kind: str
    secret: str = ""

    def __repr__(self) -> str:  # never let a traceback or log line carry the key
        return f"NewKey({self.kind}, prefix={prefix_of(self.secret)})"

    @property
    def prefix(self) -> str:
        return prefix_of(self.secret)

    @property
    def hash(self) -> str:
        return key_hash(self.secret)


def generate(kind: str) -> NewKey:
    # One uniform draw below 62**30, written in base62: same distribution as 30 choice() calls.
    body = KIND_TAGS[kind] + _base62(secrets.randbelow(_SECRET_SPACE), SECRET_LENGTH)
    return NewKey(kind=kind, secret=body + _checksum(body))


def is_well_formed(key: str) -> bool:
    """Shape and checksum only: no database, so garbage is refused cheaply."""
    if not KEY_RE.match(key):
        return False
    body, check = key[:-CHECKSUM_LENGTH], key[-CHECKSUM_LENGTH:]
    return zlib.crc32(body.encode("ascii")) == _decode62(check)


def kind_of(key: str) -> str:
    return "vendor" if key.startswith(KIND_TAGS["vendor"]) else "tenant"


def prefix_of(key: str) -> str:
    return key[: len("ocv_") + PREFIX_SECRET_CHARS]


def key_hash(key: str) -> str:
    """Plain SHA-256, no pepper and no slow hash: see docs/api.md "How keys are stored"."""
    return hashlib.sha256(key.encode("ascii")).hexdigest()
