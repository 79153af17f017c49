from __future__ import annotations

import hashlib

import nacl.bindings
import pytest

from opencmk_crypto import CryptoError, OrgKeys, b64d, b64e, canonical_json, fingerprint, kid


def test_b64_round_trips_with_padding() -> None:
    for n in range(0, 70):
        data = bytes(range(n))
        assert b64d(b64e(data)) == data
    assert b64e(b"a") == "YQ=="


@pytest.mark.parametrize(
    "bad",
    ["YQ", "YQ=", "Y Q==", "YQ==\n", "YR==", "_-8=", "YQ==YQ==", "ä", "Zm9v!"],
    ids=[
        "no-padding",
        "short-padding",
        "space",
        "newline",
        "non-zero-pad-bits",
        "urlsafe",
        "padding-in-middle",
        "non-ascii",
        "bang",
    ],
)
def test_b64d_rejects_anything_but_canonical_standard_base64(bad: str) -> None:
    with pytest.raises(CryptoError):
        b64d(bad)


def test_b64d_rejects_bytes_input() -> None:
    with pytest.raises(CryptoError):
        b64d(b"YQ==")  # type: ignore[arg-type]


def test_kid_is_blake2b_128_hex_of_the_public_key() -> None:
    pub = bytes(range(32))
    assert kid(pub) == hashlib.blake2b(pub, digest_size=16).hexdigest()
    # crypto_generichash with a 16-byte output is the same function
    assert (
        kid(pub)
        == nacl.bindings.crypto_generichash_blake2b_salt_personal(pub, digest_size=16).hex()
    )
    assert len(kid(pub)) == 32 and kid(pub) == kid(pub).lower()


def test_kid_rejects_wrong_sizes() -> None:
    for bad in (b"", bytes(31), bytes(33)):
        with pytest.raises(CryptoError):
            kid(bad)


def test_fingerprint_groups_kid_in_fours() -> None:
    assert fingerprint("0123456789abcdef0123456789abcdef") == (
        "0123 4567 89ab cdef 0123 4567 89ab cdef"
    )
    with pytest.raises(CryptoError):
        fingerprint("0123456789ABCDEF0123456789ABCDEF")


def test_org_keys_secret_bytes_round_trip() -> None:
    keys = OrgKeys.generate()
    secret = keys.to_secret_bytes()
    assert len(secret) == 64
    again = OrgKeys.from_secret_bytes(secret)
    assert again.signing_public == keys.signing_public
    assert again.encryption_public == keys.encryption_public
    assert again.kid == kid(keys.signing_public)
    assert again.encryption_kid == kid(keys.encryption_public)


def test_org_keys_repr_hides_private_material() -> None:
    keys = OrgKeys.generate()
    text = repr(keys)
    assert keys.kid in text
    assert keys.to_secret_bytes().hex()[:16] not in text
    assert b64e(keys.to_secret_bytes())[:16] not in text


def test_org_keys_from_secret_bytes_rejects_wrong_length() -> None:
    with pytest.raises(CryptoError):
        OrgKeys.from_secret_bytes(bytes(63))


def test_canonical_json_sorts_keys_without_whitespace_and_keeps_unicode() -> None:
    assert (
        canonical_json({"b": 1, "a": ["é", None, True]}) == '{"a":["é",null,true],"b":1}'.encode()
    )
