"""Key ids, fingerprints and organisation key pairs (DESIGN.md §2)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import nacl.public
import nacl.signing

from ._errors import CryptoError

PUBLIC_KEY_SIZE = 32
_KID_RE = re.compile(r"[0-9a-f]{32}")


def kid(pub: bytes) -> str:
    """Lowercase hex of BLAKE2b-128 (``crypto_generichash``, 16 bytes) of a 32-byte public key."""
    if not isinstance(pub, bytes | bytearray) or len(pub) != PUBLIC_KEY_SIZE:
        raise CryptoError("public key must be 32 bytes")
    # Unkeyed BLAKE2b with a 16-byte digest is exactly libsodium's crypto_generichash(16, pub).
    return hashlib.blake2b(bytes(pub), digest_size=16).hexdigest()


def is_kid(value: object) -> bool:
    """True if ``value`` has the shape of a kid (32 lowercase hex characters)."""
    return isinstance(value, str) and _KID_RE.fullmatch(value) is not None


def fingerprint(kid_: str) -> str:
    """A kid shown for humans: groups of four characters separated by spaces."""
    if not is_kid(kid_):
        raise CryptoError("not a kid")
    return " ".join(kid_[i : i + 4] for i in range(0, len(kid_), 4))


@dataclass(frozen=True, eq=False, repr=False)
class OrgKeys:
    """An Ed25519 signing key and an X25519 encryption key held together.

    Used for user keys, vendor and tenant root keys and proxy cluster keys alike.
    """

    signing_key: nacl.signing.SigningKey
    encryption_key: nacl.public.PrivateKey

    SECRET_SIZE = 64

    @classmethod
    def generate(cls) -> OrgKeys:
        return cls(nacl.signing.SigningKey.generate(), nacl.public.PrivateKey.generate())

    @property
    def signing_public(self) -> bytes:
        return bytes(self.signing_key.verify_key)

    @property
    def encryption_public(self) -> bytes:
        return bytes(self.encryption_key.public_key)

    @property
    def kid(self) -> str:
        return kid(self.signing_public)

    @property
    def encryption_kid(self) -> str:
        """The kid a sealed config uses to name this key as a recipient."""
        return kid(self.encryption_public)

    def to_secret_bytes(self) -> bytes:
        """Ed25519 seed (32) || X25519 secret key (32); the browser uses the same layout."""
        return bytes(self.signing_key) + bytes(self.encryption_key)

    @classmethod
    def from_secret_bytes(cls, secret: bytes) -> OrgKeys:
        if not isinstance(secret, bytes | bytearray) or len(secret) != cls.SECRET_SIZE:
            raise CryptoError("organisation key secret must be 64 bytes")
        secret = bytes(secret)
        return cls(nacl.signing.SigningKey(secret[:32]), nacl.public.PrivateKey(secret[32:]))

    def __repr__(self) -> str:
        # Never print private material; the kid is enough to tell keys apart.
        return f"OrgKeys(kid={self.kid!r})"
