"""Sealed configs (DESIGN.md §4).

``ciphertext`` = XChaCha20-Poly1305-IETF(CEK, nonce, config JSON, AD) and each recipient gets
``crypto_box_seal(CEK, recipient X25519 public key)``. The AD binds tenant id, config id and
kind, so a blob served for another tenant, config or kind fails to decrypt.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import nacl.bindings
import nacl.exceptions
import nacl.public
import nacl.utils

from ._encoding import b64d, b64e
from ._errors import CryptoError, SealError
from ._keys import is_kid, kid

SEALED_VERSION = 1
KINDS = frozenset({"kms", "logging"})
SEALED_FIELDS = frozenset(
    {"v", "kind", "tenant_id", "config_id", "nonce", "ciphertext", "recipients"}
)
RECIPIENT_FIELDS = frozenset({"kid", "sealed_key"})
AD_PREFIX = b"OpenCMK/1/sealed-config\n"
CEK_SIZE = 32
NONCE_SIZE = 24
TAG_SIZE = 16
SEALED_KEY_SIZE = 48 + CEK_SIZE  # crypto_box_SEALBYTES + CEK
MAX_CONFIG_ID = 2**31 - 1  # travels as protobuf int32 inside every EDEK (DESIGN.md §6.3)
MAX_TENANT_ID_LENGTH = 1024
MAX_PLAINTEXT_BYTES = 64 * 1024  # a config is a few KB of JSON; this bounds what the broker stores
MAX_RECIPIENTS = 256


def associated_data(tenant_id: str, config_id: int, kind: str) -> bytes:
    """``"OpenCMK/1/sealed-config\\n" + tenant_id + "\\n" + str(config_id) + "\\n" + kind``."""
    return AD_PREFIX + f"{tenant_id}\n{config_id}\n{kind}".encode()


def _check_header(kind: object, tenant_id: object, config_id: object) -> None:
    if not isinstance(kind, str) or kind not in KINDS:
        raise SealError("kind must be 'kms' or 'logging'")
    if not isinstance(tenant_id, str) or not 0 < len(tenant_id) <= MAX_TENANT_ID_LENGTH:
        raise SealError("tenant_id must be a non-empty string")
    if (
        not isinstance(config_id, int)
        or isinstance(config_id, bool)
        or not 0 < config_id <= MAX_CONFIG_ID
    ):
        raise SealError("config_id must be a positive 32-bit integer")


def _b64_field(value: object, name: str) -> bytes:
    if not isinstance(value, str):
        raise SealError(f"{name} must be a base64 string")
    try:
        return b64d(value)
    except CryptoError:
        raise SealError(f"{name} is not valid base64") from None


def _check_recipients(recipients: object) -> None:
    if not isinstance(recipients, list) or not 0 < len(recipients) <= MAX_RECIPIENTS:
        raise SealError("recipients must be a non-empty list")
    seen: set[str] = set()
    for entry in recipients:
        if not isinstance(entry, Mapping) or set(entry) != RECIPIENT_FIELDS:
            raise SealError("each recipient has exactly kid and sealed_key")
        if not is_kid(entry["kid"]) or entry["kid"] in seen:
            raise SealError("recipient kid malformed or repeated")
        seen.add(entry["kid"])
        if len(_b64_field(entry["sealed_key"], "sealed_key")) != SEALED_KEY_SIZE:
            raise SealError("sealed_key has the wrong size")


def validate_sealed_structure(sealed: Mapping[str, Any]) -> None:
    """Structure and size checks only: what a party without a private key can check."""
    if not isinstance(sealed, Mapping) or set(sealed) != SEALED_FIELDS:
        raise SealError("sealed config has missing or unexpected fields")
    if type(sealed["v"]) is not int or sealed["v"] != SEALED_VERSION:
        raise SealError("unsupported sealed config version")
    _check_header(sealed["kind"], sealed["tenant_id"], sealed["config_id"])
    if len(_b64_field(sealed["nonce"], "nonce")) != NONCE_SIZE:
        raise SealError("nonce must be 24 bytes")
    ciphertext = _b64_field(sealed["ciphertext"], "ciphertext")
    if not TAG_SIZE <= len(ciphertext) <= MAX_PLAINTEXT_BYTES + TAG_SIZE:
        raise SealError("ciphertext has an impossible size")
    _check_recipients(sealed["recipients"])


def _seal_key(cek: bytes, public_key: bytes) -> dict[str, str]:
    try:
        box = nacl.public.SealedBox(nacl.public.PublicKey(bytes(public_key)))
    except (nacl.exceptions.CryptoError, TypeError):
        raise SealError("recipient public key must be 32 bytes") from None
    return {"kid": kid(bytes(public_key)), "sealed_key": b64e(box.encrypt(cek))}


def seal_config(
    *,
    kind: str,
    tenant_id: str,
    config_id: int,
    plaintext: bytes,
    recipients: Sequence[bytes],
) -> dict[str, Any]:
    """Encrypts ``plaintext`` under a fresh CEK and seals the CEK to every recipient."""
    _check_header(kind, tenant_id, config_id)
    if not isinstance(plaintext, bytes) or len(plaintext) > MAX_PLAINTEXT_BYTES:
        raise SealError("plaintext must be bytes of at most 64 KiB")
    keys = [bytes(r) for r in recipients]
    if not keys or len(keys) > MAX_RECIPIENTS:
        raise SealError("need between 1 and 256 recipients")
    if any(len(k) != 32 for k in keys):
        raise SealError("recipient public key must be 32 bytes")
    if len({kid(k) for k in keys}) != len(keys):
        raise SealError("recipient listed twice")
    cek = nacl.utils.random(CEK_SIZE)  # DESIGN.md §4: fresh for every config version
    nonce = nacl.utils.random(NONCE_SIZE)
    ciphertext = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plaintext, associated_data(tenant_id, config_id, kind), nonce, cek
    )
    return {
        "v": SEALED_VERSION,
        "kind": kind,
        "tenant_id": tenant_id,
        "config_id": config_id,
        "nonce": b64e(nonce),
        "ciphertext": b64e(ciphertext),
        "recipients": [_seal_key(cek, k) for k in keys],
    }


def _check_expected(sealed: Mapping[str, Any], expected: Mapping[str, object]) -> None:
    # Swap protection: the caller says which tenant/config/kind it asked for; the AD then also
    # binds the blob's own header, so neither the header nor the ciphertext can be swapped.
    for name, value in expected.items():
        if value is not None and sealed[name] != value:
            raise SealError(f"sealed config {name} does not match the expected one")


def _open_cek(sealed: Mapping[str, Any], private_key: nacl.public.PrivateKey) -> bytes:
    own_kid = kid(bytes(private_key.public_key))
    entry = next((r for r in sealed["recipients"] if r["kid"] == own_kid), None)
    if entry is None:
        raise SealError("sealed config is not addressed to this key")
    try:
        cek = nacl.public.SealedBox(private_key).decrypt(b64d(entry["sealed_key"]))
    except nacl.exceptions.CryptoError:
        raise SealError("cannot open the sealed key") from None
    if len(cek) != CEK_SIZE:
        raise SealError("sealed key has the wrong size")
    return cek


def _decrypt(sealed: Mapping[str, Any], cek: bytes) -> bytes:
    ad = associated_data(sealed["tenant_id"], sealed["config_id"], sealed["kind"])
    try:
        return nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            b64d(sealed["ciphertext"]), ad, b64d(sealed["nonce"]), cek
        )
    except nacl.exceptions.CryptoError:
        raise SealError("sealed config does not decrypt (tampered or swapped)") from None


def open_config(
    sealed: Mapping[str, Any],
    *,
    private_key: nacl.public.PrivateKey,
    tenant_id: str | None = None,
    config_id: int | None = None,
    kind: str | None = None,
) -> bytes:
    """Opens a sealed config addressed to ``private_key``; returns the plaintext."""
    validate_sealed_structure(sealed)
    _check_expected(sealed, {"tenant_id": tenant_id, "config_id": config_id, "kind": kind})
    return _decrypt(sealed, _open_cek(sealed, private_key))


def add_recipient(
    sealed: Mapping[str, Any],
    *,
    private_key: nacl.public.PrivateKey,
    new_public_key: bytes,
) -> dict[str, Any]:
    """Returns a copy of ``sealed`` that ``new_public_key`` can also open (same nonce and
    ciphertext, so the content digest is unchanged). Adding a present recipient is a no-op."""
    validate_sealed_structure(sealed)
    cek = _open_cek(sealed, private_key)
    _decrypt(sealed, cek)  # only re-share a CEK that really opens this ciphertext
    result = copy.deepcopy(dict(sealed))
    entry = _seal_key(cek, new_public_key)
    if all(r["kid"] != entry["kid"] for r in result["recipients"]):
        if len(result["recipients"]) >= MAX_RECIPIENTS:
            raise SealError("too many recipients")
        result["recipients"].append(entry)
    return result


def content_digest(sealed: Mapping[str, Any]) -> str:
    """base64 SHA-256 of ``nonce || ciphertext``: what a tenant policy pins (DESIGN.md §4)."""
    nonce = _b64_field(sealed.get("nonce"), "nonce")
    ciphertext = _b64_field(sealed.get("ciphertext"), "ciphertext")
    return b64e(hashlib.sha256(nonce + ciphertext).digest())
