"""Wycheproof vectors against the primitives opencmk_crypto uses (through PyNaCl/libsodium).

What the API cannot express, and why (also in docs/crypto.md):
- X25519: libsodium's crypto_scalarmult refuses to return an all-zero shared secret (low-order
  public keys), so those cases must raise instead of matching ``shared``. Every other case,
  "valid" or "acceptable", must produce exactly ``shared``.
- XChaCha20-Poly1305: the bindings take only 24-byte nonces; cases with other nonce sizes must be
  refused with an exception rather than computed.
"""

from __future__ import annotations

from typing import Any

import nacl.bindings
import nacl.exceptions
import nacl.signing
import pytest

from tests.crypto.crypto_vectors import wycheproof_cases


@pytest.mark.parametrize(("group", "test"), wycheproof_cases("ed25519_test.json"))
def test_ed25519_verify_matches_wycheproof(group: dict[str, Any], test: dict[str, Any]) -> None:
    key = nacl.signing.VerifyKey(bytes.fromhex(group["publicKey"]["pk"]))
    message, sig = bytes.fromhex(test["msg"]), bytes.fromhex(test["sig"])
    if test["result"] == "valid":
        assert key.verify(message, sig) == message
    else:
        with pytest.raises((nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError)):
            key.verify(message, sig)


def _zero_shared(test: dict[str, Any]) -> bool:
    return bytes.fromhex(test["shared"]) == bytes(32)


@pytest.mark.parametrize(
    ("group", "test"), wycheproof_cases("x25519_test.json", lambda g, t: not _zero_shared(t))
)
def test_x25519_scalarmult_matches_wycheproof(group: dict[str, Any], test: dict[str, Any]) -> None:
    shared = nacl.bindings.crypto_scalarmult(
        bytes.fromhex(test["private"]), bytes.fromhex(test["public"])
    )
    assert shared.hex() == test["shared"]


@pytest.mark.parametrize(
    ("group", "test"), wycheproof_cases("x25519_test.json", lambda g, t: _zero_shared(t))
)
def test_x25519_refuses_all_zero_shared_secret(group: dict[str, Any], test: dict[str, Any]) -> None:
    # libsodium returns -1 for a low-order point; PyNaCl turns that into RuntimeError.
    with pytest.raises(nacl.exceptions.RuntimeError):
        nacl.bindings.crypto_scalarmult(
            bytes.fromhex(test["private"]), bytes.fromhex(test["public"])
        )


def _xchacha_args(test: dict[str, Any]) -> tuple[bytes, bytes, bytes, bytes, bytes]:
    return tuple(  # type: ignore[return-value]
        bytes.fromhex(test[k]) for k in ("msg", "aad", "iv", "key", "ct")
    )


@pytest.mark.parametrize(("group", "test"), wycheproof_cases("xchacha20_poly1305_test.json"))
def test_xchacha20_poly1305_matches_wycheproof(group: dict[str, Any], test: dict[str, Any]) -> None:
    msg, aad, nonce, key, ct = _xchacha_args(test)
    sealed = ct + bytes.fromhex(test["tag"])
    if test["result"] == "valid":
        enc = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(msg, aad, nonce, key)
        assert enc == sealed
        dec = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed, aad, nonce, key)
        assert dec == msg
    else:
        with pytest.raises((nacl.exceptions.CryptoError, nacl.exceptions.TypeError)):
            nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed, aad, nonce, key)
