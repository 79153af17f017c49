"""What the broker can check about browser-made key material without being able to read it.

Every check here is structural, or a signature check with a public key the broker holds: the
broker never sees a private key or a passphrase. Cryptography is opencmk_crypto's, never ours.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from keyring.errors import InvalidKeyMaterialError, StatementRejectedError
from opencmk_crypto import (
    CryptoError,
    PassphraseError,
    StatementError,
    b64d,
    kid,
    validate_passphrase_blob,
    verify_statement,
)

PUBLIC_KEY_BYTES = 32
# OrgKeys.to_secret_bytes(): Ed25519 seed (32) || X25519 secret key (32).
ORG_SECRET_BYTES = 64
# crypto_box_seal adds an ephemeral public key (32) and a Poly1305 tag (16).
SEAL_OVERHEAD = 48
SEALED_ORG_SECRET_BYTES = ORG_SECRET_BYTES + SEAL_OVERHEAD
CLUSTER_ID_RE = re.compile(r"c-[0-9a-f]{20}")
MAX_CLUSTER_NAME = 200


def public_key(value: object, *, field: str) -> bytes:
    """Decodes a base64 32-byte public key; the error names the field, never the value."""
    try:
        raw = b64d(value) if isinstance(value, str) else b""
    except CryptoError:
        raw = b""
    if len(raw) != PUBLIC_KEY_BYTES:
        raise InvalidKeyMaterialError(f"{field} must be a base64 32-byte public key.")
    return raw


def key_pair(signing: object, encryption: object) -> tuple[bytes, bytes, str]:
    """(signing key, encryption key, kid of the signing key); the two keys must differ."""
    sign = public_key(signing, field="signing_public")
    enc = public_key(encryption, field="encryption_public")
    if sign == enc:
        raise InvalidKeyMaterialError("The signing and encryption keys must differ.")
    return sign, enc, kid(sign)


def sealed_org_secret(value: object) -> str:
    """A root key secret sealed to a user key: right size, canonical base64."""
    try:
        raw = b64d(value) if isinstance(value, str) else b""
    except CryptoError:
        raw = b""
    if len(raw) != SEALED_ORG_SECRET_BYTES:
        raise InvalidKeyMaterialError("sealed_secret must be a sealed 64-byte key.")
    return str(value)


def passphrase_blob(value: object) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidKeyMaterialError("wrapped_secret must be a passphrase blob.")
    try:
        validate_passphrase_blob(value)
    except PassphraseError as exc:
        raise InvalidKeyMaterialError(f"wrapped_secret: {exc}.") from None
    return dict(value)


def cluster_id_for(signing_public: bytes) -> str:
    """Cluster ids derive from the cluster's signing key: unique, and never reusable after a
    revocation, because a revoked key can never be registered again."""
    return "c-" + kid(signing_public)[:20]


def verified_payload(
    statement: object, *, expected_type: str, signer_public: bytes
) -> dict[str, Any]:
    """Signature first (opencmk_crypto), then the caller compares the payload's fields."""
    if not isinstance(statement, Mapping):
        raise StatementRejectedError("The statement must be a JSON object.")
    try:
        return verify_statement(statement, expected_type=expected_type, public_key=signer_public)
    except StatementError as exc:
        raise StatementRejectedError(f"The statement does not verify: {exc}.") from None


def require_fields(payload: Mapping[str, Any], expected: Mapping[str, object]) -> None:
    """Each payload field must equal what the broker expects (defence in depth)."""
    for name, value in expected.items():
        if payload.get(name) != value:
            raise StatementRejectedError(f"The statement's {name} does not match.")
