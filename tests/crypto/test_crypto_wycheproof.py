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

from tests.crypto.crypto_vectors import load, wycheproof_cases

Cases = list[tuple[str, dict[str, Any], dict[str, Any]]]


def _ed25519_accepts(group: dict[str, Any], test: dict[str, Any]) -> bool:
    key = nacl.signing.VerifyKey(bytes.fromhex(group["publicKey"]["pk"]))
    message, sig = bytes.fromhex(test["msg"]), bytes.fromhex(test["sig"])
    try:
        return key.verify(message, sig) == message
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError):
        return False


@pytest.mark.parametrize("cases", wycheproof_cases("ed25519_test.json"))
def test_ed25519_verify_matches_wycheproof(cases: Cases) -> None:
    for case_id, group, test in cases:
        assert _ed25519_accepts(group, test) == (test["result"] == "valid"), case_id


def _zero_shared(test: dict[str, Any]) -> bool:
    return bytes.fromhex(test["shared"]) == bytes(32)


@pytest.mark.parametrize(
    "cases", wycheproof_cases("x25519_test.json", lambda g, t: not _zero_shared(t))
)
def test_x25519_scalarmult_matches_wycheproof(cases: Cases) -> None:
    for case_id, _group, test in cases:
        shared = nacl.bindings.crypto_scalarmult(
            bytes.fromhex(test["private"]), bytes.fromhex(test["public"])
        )
        assert shared.hex() == test["shared"], case_id


@pytest.mark.parametrize(
    "cases", wycheproof_cases("x25519_test.json", lambda g, t: _zero_shared(t))
)
def test_x25519_refuses_all_zero_shared_secret(cases: Cases) -> None:
    for case_id, _group, test in cases:
        # libsodium returns -1 for a low-order point; PyNaCl turns that into RuntimeError.
        with pytest.raises(nacl.exceptions.RuntimeError):
            nacl.bindings.crypto_scalarmult(
                bytes.fromhex(test["private"]), bytes.fromhex(test["public"])
            )
            pytest.fail(f"{case_id}: all-zero shared secret returned")


def _xchacha_args(test: dict[str, Any]) -> tuple[bytes, bytes, bytes, bytes, bytes]:
    return tuple(  # type: ignore[return-value]
        bytes.fromhex(test[k]) for k in ("msg", "aad", "iv", "key", "ct")
    )


@pytest.mark.parametrize("cases", wycheproof_cases("xchacha20_poly1305_test.json"))
def test_xchacha20_poly1305_matches_wycheproof(cases: Cases) -> None:
    for case_id, _group, test in cases:
        msg, aad, nonce, key, ct = _xchacha_args(test)
        sealed = ct + bytes.fromhex(test["tag"])
        if test["result"] == "valid":
            enc = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(msg, aad, nonce, key)
            assert enc == sealed, case_id
            dec = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed, aad, nonce, key)
            assert dec == msg, case_id
        else:
            with pytest.raises((nacl.exceptions.CryptoError, nacl.exceptions.TypeError)):
                nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed, aad, nonce, key)
                pytest.fail(f"{case_id}: invalid case decrypted")


@pytest.mark.parametrize(
    "name", ["ed25519_test.json", "x25519_test.json", "xchacha20_poly1305_test.json"]
)
def test_every_wycheproof_case_is_exercised(name: str) -> None:
    buckets = wycheproof_cases(name)
    assert sum(len(p.values[0]) for p in buckets) == load(name)["numberOfTests"]
