from __future__ import annotations

from typing import Any

import pytest

from opencmk_crypto import (
    MEMLIMIT_INTERACTIVE,
    MEMLIMIT_MODERATE,
    OPSLIMIT_INTERACTIVE,
    OPSLIMIT_MODERATE,
    OrgKeys,
    PassphraseError,
    b64d,
    b64e,
    unwrap_secret,
    validate_passphrase_blob,
    wrap_secret,
)

FAST = {"opslimit": OPSLIMIT_INTERACTIVE, "memlimit": MEMLIMIT_INTERACTIVE}


@pytest.fixture(scope="module")
def secret() -> bytes:
    return OrgKeys.generate().to_secret_bytes()


@pytest.fixture(scope="module")
def blob(secret: bytes) -> dict[str, Any]:
    return wrap_secret(secret, "correct horse battery staple", **FAST)


def test_blob_has_documented_shape_and_no_secret(blob: dict[str, Any], secret: bytes) -> None:
    assert set(blob) == {"v", "alg", "salt", "opslimit", "memlimit", "nonce", "ciphertext"}
    assert blob["alg"] == "argon2id13+xsalsa20poly1305" and blob["v"] == 1
    assert (blob["opslimit"], blob["memlimit"]) == (OPSLIMIT_INTERACTIVE, MEMLIMIT_INTERACTIVE)
    assert len(b64d(blob["salt"])) == 16 and len(b64d(blob["nonce"])) == 24
    assert b64e(secret) not in str(blob)
    validate_passphrase_blob(blob)


def test_right_passphrase_unwraps(blob: dict[str, Any], secret: bytes) -> None:
    assert unwrap_secret(blob, "correct horse battery staple") == secret


def test_wrong_passphrase_is_refused(blob: dict[str, Any]) -> None:
    with pytest.raises(PassphraseError):
        unwrap_secret(blob, "correct horse battery stapler")


def test_key_derivation_is_argon2id_with_stored_parameters(
    blob: dict[str, Any], secret: bytes
) -> None:
    import nacl.secret

    key = nacl.pwhash.argon2id.kdf(
        32,
        b"correct horse battery staple",
        b64d(blob["salt"]),
        opslimit=blob["opslimit"],
        memlimit=blob["memlimit"],
    )
    assert nacl.secret.SecretBox(key).decrypt(b64d(blob["ciphertext"]), b64d(blob["nonce"])) == (
        secret
    )


def test_passphrase_is_nfc_normalised() -> None:
    wrapped = wrap_secret(b"s", "caf\u00e9", **FAST)
    assert unwrap_secret(wrapped, "cafe\u0301") == b"s"


def test_default_parameters_are_moderate() -> None:
    wrapped = wrap_secret(b"s", "pw")
    assert (wrapped["opslimit"], wrapped["memlimit"]) == (OPSLIMIT_MODERATE, MEMLIMIT_MODERATE)
    assert unwrap_secret(wrapped, "pw") == b"s"


@pytest.mark.parametrize(
    "change",
    [
        {"v": 2},
        {"alg": "argon2i13+xsalsa20poly1305"},
        {"opslimit": 1},
        {"memlimit": 8192},
        {"memlimit": 2**40},
        {"opslimit": 99},
        {"salt": b64e(bytes(8))},
        {"nonce": b64e(bytes(12))},
        {"extra": 1},
        {"ciphertext": b64e(bytes(16))},
    ],
    ids=[
        "version",
        "alg",
        "weak-ops",
        "weak-mem",
        "huge-mem",
        "huge-ops",
        "short-salt",
        "short-nonce",
        "extra-field",
        "empty-ciphertext",
    ],
)
def test_malformed_or_hostile_blobs_are_refused_before_deriving(
    blob: dict[str, Any], change: dict[str, Any]
) -> None:
    with pytest.raises(PassphraseError):
        unwrap_secret({**blob, **change}, "correct horse battery staple")


def test_tampered_ciphertext_is_refused(blob: dict[str, Any]) -> None:
    raw = bytearray(b64d(blob["ciphertext"]))
    raw[-1] ^= 1
    with pytest.raises(PassphraseError):
        unwrap_secret({**blob, "ciphertext": b64e(bytes(raw))}, "correct horse battery staple")


def test_empty_passphrase_and_secret_are_refused() -> None:
    with pytest.raises(PassphraseError):
        wrap_secret(b"s", "", **FAST)
    with pytest.raises(PassphraseError):
        wrap_secret(b"", "pw", **FAST)
