"""Invitation tokens: 256 random bits in the link, only their SHA-256 in the database."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    # A fast hash is enough: the token has 256 bits of entropy, nothing to brute-force.
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()
