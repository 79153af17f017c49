"""Passphrase-wrapped secrets: how user keys rest on the broker (DESIGN.md §2).

Key = Argon2id13(passphrase, salt, opslimit, memlimit) with the parameters stored in the blob;
the secret is then encrypted with ``crypto_secretbox`` (XSalsa20-Poly1305).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from ._encoding import b64d, b64e
from ._errors import CryptoError, PassphraseError

ALG = "argon2id13+xsalsa20poly1305"
BLOB_VERSION = 1
BLOB_FIELDS = frozenset({"v", "alg", "salt", "opslimit", "memlimit", "nonce", "ciphertext"})
OPSLIMIT_INTERACTIVE = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
MEMLIMIT_INTERACTIVE = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE
OPSLIMIT_MODERATE = nacl.pwhash.argon2id.OPSLIMIT_MODERATE
MEMLIMIT_MODERATE = nacl.pwhash.argon2id.MEMLIMIT_MODERATE
OPSLIMIT_SENSITIVE = nacl.pwhash.argon2id.OPSLIMIT_SENSITIVE
MEMLIMIT_SENSITIVE = nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE
# Bounds on stored parameters: below INTERACTIVE is too weak to accept; above SENSITIVE a
# hostile blob could make a browser tab allocate gigabytes.
MIN_OPSLIMIT, MAX_OPSLIMIT = OPSLIMIT_INTERACTIVE, OPSLIMIT_SENSITIVE
MIN_MEMLIMIT, MAX_MEMLIMIT = MEMLIMIT_INTERACTIVE, MEMLIMIT_SENSITIVE
SALT_SIZE = nacl.pwhash.argon2id.SALTBYTES
NONCE_SIZE = nacl.secret.SecretBox.NONCE_SIZE
MAX_SECRET_BYTES = 4096


def _passphrase_bytes(passphrase: str) -> bytes:
    # NFC so the same passphrase typed through different input methods gives the same key;
    # the browser applies String.prototype.normalize("NFC") too.
    if not isinstance(passphrase, str) or passphrase == "":
        raise PassphraseError("passphrase must be a non-empty string")
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def _check_limits(opslimit: object, memlimit: object) -> tuple[int, int]:
    if type(opslimit) is not int or not MIN_OPSLIMIT <= opslimit <= MAX_OPSLIMIT:
        raise PassphraseError("opslimit out of range")
    if type(memlimit) is not int or not MIN_MEMLIMIT <= memlimit <= MAX_MEMLIMIT:
        raise PassphraseError("memlimit out of range")
    return opslimit, memlimit


def _derive(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE,
        _passphrase_bytes(passphrase),
        salt,
        opslimit=opslimit,
        memlimit=memlimit,
    )


def wrap_secret(
    secret: bytes,
    passphrase: str,
    *,
    opslimit: int = OPSLIMIT_MODERATE,
    memlimit: int = MEMLIMIT_MODERATE,
) -> dict[str, Any]:
    """Encrypts ``secret`` under a key derived from ``passphrase``; returns the blob dict."""
    if not isinstance(secret, bytes) or not 0 < len(secret) <= MAX_SECRET_BYTES:
        raise PassphraseError("secret must be 1 to 4096 bytes")
    _check_limits(opslimit, memlimit)
    salt = nacl.utils.random(SALT_SIZE)
    nonce = nacl.utils.random(NONCE_SIZE)
    key = _derive(passphrase, salt, opslimit, memlimit)
    ciphertext = nacl.secret.SecretBox(key).encrypt(secret, nonce).ciphertext
    return {
        "v": BLOB_VERSION,
        "alg": ALG,
        "salt": b64e(salt),
        "opslimit": opslimit,
        "memlimit": memlimit,
        "nonce": b64e(nonce),
        "ciphertext": b64e(ciphertext),
    }


def _decode_blob(blob: object) -> tuple[bytes, int, int, bytes, bytes]:
    if not isinstance(blob, Mapping) or set(blob) != BLOB_FIELDS:
        raise PassphraseError("passphrase blob has missing or unexpected fields")
    if type(blob["v"]) is not int or blob["v"] != BLOB_VERSION or blob["alg"] != ALG:
        raise PassphraseError("unsupported passphrase blob version or algorithm")
    opslimit, memlimit = _check_limits(blob["opslimit"], blob["memlimit"])
    try:
        salt, nonce, ciphertext = (b64d(blob[k]) for k in ("salt", "nonce", "ciphertext"))
    except CryptoError:
        raise PassphraseError("passphrase blob field is not valid base64") from None
    if len(salt) != SALT_SIZE or len(nonce) != NONCE_SIZE:
        raise PassphraseError("passphrase blob salt or nonce has the wrong size")
    if not nacl.secret.SecretBox.MACBYTES < len(ciphertext) <= MAX_SECRET_BYTES + 16:
        raise PassphraseError("passphrase blob ciphertext has an impossible size")
    return salt, opslimit, memlimit, nonce, ciphertext


def validate_passphrase_blob(blob: Mapping[str, Any]) -> None:
    """Structure and parameter checks only (what the broker can check)."""
    _decode_blob(blob)


def unwrap_secret(blob: Mapping[str, Any], passphrase: str) -> bytes:
    """Decrypts a blob made by :func:`wrap_secret`; :class:`PassphraseError` on any failure."""
    salt, opslimit, memlimit, nonce, ciphertext = _decode_blob(blob)
    key = _derive(passphrase, salt, opslimit, memlimit)
    try:
        return nacl.secret.SecretBox(key).decrypt(ciphertext, nonce)
    except nacl.exceptions.CryptoError:
        raise PassphraseError("wrong passphrase or corrupted blob") from None
