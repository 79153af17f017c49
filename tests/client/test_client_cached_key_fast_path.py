"""The cached key's inlined hot path keeps every check of the general path.

A field whose header is byte-identical to the key's own skips header parsing and signature
verification; these tests flip every bit and cut every byte of such fields (and of fields with a
foreign header under the same key) through both the document API and the ``*_into`` API.
"""

from __future__ import annotations

import dataclasses
import time

import pytest

from tenant_security_client import (
    AlreadyEncryptedError,
    CachedKey,
    CachedKeyError,
    DecryptionError,
    EncryptedDocument,
    PlaintextDocument,
    RequestMetadata,
)
from tenant_security_client import _format as fmt
from tenant_security_client import _operations as ops

from .helpers import new_key

META = RequestMetadata(tenant_id="tenant-a", requesting_id="svc")
SECRET = b"8 bytes!"


def _key(**limits: float) -> CachedKey:
    return CachedKey(new_key(), "EDEK-1", META, lambda call: None, **limits)


def _own_field(key: CachedKey) -> bytes:
    out = bytearray(key.encrypted_size(len(SECRET)))
    key.encrypt_into(SECRET, out)
    return bytes(out)


def _flips(field: bytes) -> list[bytearray]:
    out = []
    for bit in range(len(field) * 8):
        tampered = bytearray(field)
        tampered[bit // 8] ^= 1 << (bit % 8)
        out.append(tampered)
    return out


def test_decrypt_into_rejects_every_bit_flip_of_an_own_field_and_zeroes_the_output() -> None:
    key = _key()
    field = _own_field(key)
    for tampered in _flips(field):
        out = bytearray(b"\xff" * len(SECRET))
        with pytest.raises((DecryptionError, ValueError)) as caught:
            key.decrypt_into(tampered, out)
        if caught.type is DecryptionError:  # no unverified plaintext is left behind
            assert out in (b"\xff" * len(SECRET), bytes(len(SECRET)))


def test_decrypt_into_rejects_every_truncation_of_an_own_field() -> None:
    key = _key()
    field = _own_field(key)
    overhead = len(field) - len(SECRET)
    for cut in range(len(field)):
        with pytest.raises(DecryptionError):
            key.decrypt_into(field[:cut], bytearray(max(0, cut - overhead)))


def test_document_decrypt_rejects_every_bit_flip_and_truncation_of_an_own_field() -> None:
    key = _key()
    field = key.encrypt({"f": SECRET}).fields["f"]
    candidates = [*_flips(bytes(field)), *(field[:cut] for cut in range(len(field)))]
    for candidate in candidates:
        with pytest.raises(DecryptionError):
            key.decrypt(EncryptedDocument({"f": candidate}, "EDEK-1"))


def test_decrypt_into_verifies_a_foreign_header_under_the_same_key() -> None:
    dek = new_key()
    field = bytes(ops.encrypt_fields(dek, "tenant-a", {"f": SECRET})["f"])
    key = CachedKey(fmt.DataKey(bytearray(dek.buffer)), "EDEK-1", META, lambda call: None)
    assert field[: len(key._prefix)] != key._prefix  # another signature IV: not our header
    out = bytearray(len(SECRET))
    assert key.decrypt_into(field, out) == len(SECRET) and out == SECRET
    forged = bytearray(field)
    forged[12] ^= 1  # inside the header signature
    out = bytearray(b"\xff" * len(SECRET))
    with pytest.raises(DecryptionError):
        key.decrypt_into(forged, out)
    assert out == b"\xff" * len(SECRET)  # refused before any plaintext was written


def test_a_header_signed_under_another_key_is_refused_even_with_a_valid_body() -> None:
    key = _key()
    other = _key()
    field = _own_field(key)
    forged = other._prefix + field[len(key._prefix) :]
    with pytest.raises(DecryptionError):
        key.decrypt_into(forged, bytearray(len(SECRET)))
    with pytest.raises(DecryptionError):
        key.decrypt(EncryptedDocument({"f": forged}, "EDEK-1"))


def test_encrypt_into_refuses_bad_buffers_and_encrypted_input_without_using_the_key() -> None:
    key = _key()
    with pytest.raises(ValueError, match="exactly"):
        key.encrypt_into(SECRET, bytearray(key.encrypted_size(len(SECRET)) - 1))
    field = _own_field(key)
    with pytest.raises(AlreadyEncryptedError):
        key.encrypt_into(field, bytearray(key.encrypted_size(len(field))))
    assert (key.wraps, key.unwraps) == (1, 0)
    with pytest.raises(AlreadyEncryptedError):
        key.encrypt({"f": memoryview(field)})


def test_encrypt_into_writes_a_fresh_iv_each_time() -> None:
    key = _key()
    assert _own_field(key) != _own_field(key)


@pytest.mark.parametrize("method", ["encrypt_into", "decrypt_into"])
def test_buffer_api_refuses_use_after_close_expiry_or_use_limit(
    method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def use(key: CachedKey) -> None:
        if method == "encrypt_into":
            key.encrypt_into(SECRET, bytearray(key.encrypted_size(len(SECRET))))
        else:
            key.decrypt_into(field, bytearray(len(SECRET)))

    limited = _key(max_uses=2)
    field = _own_field(limited)
    use(limited)
    with pytest.raises(CachedKeyError, match="use limit"):
        use(limited)
    limited.close()
    with pytest.raises(CachedKeyError, match="closed"):
        use(limited)
    expiring = _key(max_age=5)
    field = _own_field(expiring)
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now + 6)
    with pytest.raises(CachedKeyError, match="expired"):
        use(expiring)


def test_document_results_are_the_same_objects_the_public_classes_build() -> None:
    # The hot path builds results without calling the dataclass __init__ (see _models.py).
    key = _key()
    encrypted = key.encrypt({"a": SECRET, "b": b""})
    assert type(encrypted) is EncryptedDocument
    assert encrypted == EncryptedDocument(dict(encrypted.fields), "EDEK-1")
    assert dataclasses.asdict(encrypted) == {"fields": encrypted.fields, "edek": "EDEK-1"}
    decrypted = key.decrypt(encrypted)
    assert type(decrypted) is PlaintextDocument
    assert decrypted == PlaintextDocument({"a": SECRET, "b": b""}, "EDEK-1")
    assert "8 bytes" not in repr(decrypted)
    assert dataclasses.replace(decrypted, edek="X").fields == decrypted.fields
    for cls in (EncryptedDocument, PlaintextDocument):
        assert not hasattr(cls, "__post_init__")
        assert [f.name for f in dataclasses.fields(cls)] == ["fields", "edek"]
        assert all(f.default is dataclasses.MISSING for f in dataclasses.fields(cls))


def test_use_counts_add_up_across_all_four_methods() -> None:
    key = _key(max_uses=5)
    field = _own_field(key)
    key.decrypt_into(field, bytearray(len(SECRET)))
    key.decrypt(key.encrypt({"f": SECRET}))
    assert (key.wraps, key.unwraps) == (2, 2)
    assert "4 uses" in repr(key)
    key.decrypt_into(field, bytearray(len(SECRET)))
    with pytest.raises(CachedKeyError, match="use limit"):
        key.encrypt({"f": SECRET})
    assert (key.wraps, key.unwraps) == (2, 3)
