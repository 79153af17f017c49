"""Property and tamper tests of the v3 field format (C-03, C-04, C-06, C-08)."""

from __future__ import annotations

import contextlib
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenant_security_client import AlreadyEncryptedError, DecryptionError, is_encrypted
from tenant_security_client import _format as fmt
from tenant_security_client import _operations as ops

from .helpers import new_key

# The `tsp` session fixture runs the proxy in a thread of this process; its jitter draws from the
# global `random` module, which hypothesis mistakes for a strategy using `random`. Not ours.
pytestmark = pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")

KEY = new_key()
PREFIX = fmt.build_prefix(KEY.aes, "tenant-\u03b1")
# ~200 examples in CI; nightly runs set TSC_HYPOTHESIS_EXAMPLES=10000 (C-06).
EXAMPLES = int(os.environ.get("TSC_HYPOTHESIS_EXAMPLES", "200"))
CI = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@CI
@given(
    st.dictionaries(st.text(max_size=20), st.binary(max_size=4096), max_size=5),
    st.text(min_size=1, max_size=80),
)
def test_documents_round_trip_for_any_fields_and_tenant(
    fields: dict[str, bytes], tenant: str
) -> None:
    fields = {k: v for k, v in fields.items() if not is_encrypted(v)}
    encrypted = ops.encrypt_fields(KEY, tenant, fields)
    assert ops.decrypt_fields(KEY, encrypted) == fields
    for name, value in encrypted.items():
        assert fmt.parse_field(value).tenant_id == tenant
        assert (
            len(value)
            == len(fields[name])
            + fmt.OVERHEAD_WITHOUT_HEADER
            + len(fmt.build_prefix(KEY.aes, tenant))
            - 7
        )


@CI
@given(st.binary(max_size=2048))
def test_encryption_is_not_deterministic_and_length_is_plaintext_plus_fixed_overhead(
    plaintext: bytes,
) -> None:
    if is_encrypted(plaintext):
        return
    a = fmt.encrypt_field(KEY.aes, PREFIX, plaintext)
    b = fmt.encrypt_field(KEY.aes, PREFIX, plaintext)
    assert a != b
    assert len(a) == len(b) == len(PREFIX) + 12 + len(plaintext) + 16


@pytest.mark.slow
def test_a_million_encryptions_never_repeat_an_iv() -> None:
    """C-04 at full size: 10**6 encryptions under one key, every (key, IV) pair distinct."""
    prefix_len = len(PREFIX)
    ivs = {
        bytes(fmt.encrypt_field(KEY.aes, PREFIX, b"")[prefix_len : prefix_len + 12])
        for _ in range(1_000_000)
    }
    assert len(ivs) == 1_000_000


def test_it_never_repeats_an_iv_across_many_encryptions() -> None:
    # C-04 runs 10**6 nightly; CI samples 20,000 (a repeat among random 96-bit IVs is ~2**-66).
    prefix_len = len(PREFIX)
    ivs = {
        bytes(fmt.encrypt_field(KEY.aes, PREFIX, b"x")[prefix_len : prefix_len + 12])
        for _ in range(20_000)
    }
    assert len(ivs) == 20_000


def _sample_field() -> bytes:
    return bytes(fmt.encrypt_field(KEY.aes, fmt.build_prefix(KEY.aes, "tenant-1"), b"secret data!"))


def test_truncation_at_every_byte_raises_the_opaque_error() -> None:
    field = _sample_field()
    for cut in range(len(field)):
        with pytest.raises(DecryptionError):
            fmt.decrypt_field(KEY.aes, field[:cut])


def test_every_single_bit_flip_in_header_iv_ciphertext_and_tag_raises_the_opaque_error() -> None:
    field = _sample_field()
    for i in range(len(field) * 8):
        tampered = bytearray(field)
        tampered[i // 8] ^= 1 << (i % 8)
        with pytest.raises(DecryptionError):
            fmt.decrypt_field(KEY.aes, tampered)


@CI
@given(st.binary(max_size=300), st.text(min_size=1, max_size=40), st.data())
def test_random_bit_flips_and_truncations_of_random_fields_fail_opaquely(
    plaintext: bytes, tenant: str, data: st.DataObject
) -> None:
    if is_encrypted(plaintext):
        return
    field = bytes(fmt.encrypt_field(KEY.aes, fmt.build_prefix(KEY.aes, tenant), plaintext))
    bit = data.draw(st.integers(0, len(field) * 8 - 1))
    tampered = bytearray(field)
    tampered[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(DecryptionError):
        fmt.decrypt_field(KEY.aes, tampered)
    cut = data.draw(st.integers(0, len(field) - 1))
    with pytest.raises(DecryptionError):
        fmt.decrypt_field(KEY.aes, field[:cut])


def test_a_header_re_signed_for_another_tenant_under_another_key_fails() -> None:
    field = _sample_field()
    other = new_key()
    forged_prefix = fmt.build_prefix(other.aes, "tenant-2")
    forged = forged_prefix + field[len(fmt.build_prefix(KEY.aes, "tenant-1")) :]
    with pytest.raises(DecryptionError):
        fmt.decrypt_field(KEY.aes, forged)


def test_decrypting_under_the_wrong_key_fails_opaquely() -> None:
    with pytest.raises(DecryptionError, match=r"^decryption failed$"):
        fmt.decrypt_field(new_key().aes, _sample_field())


def test_it_refuses_to_encrypt_an_already_encrypted_value() -> None:
    with pytest.raises(AlreadyEncryptedError):
        fmt.encrypt_field(KEY.aes, PREFIX, _sample_field())
    with pytest.raises(AlreadyEncryptedError):
        ops.encrypt_fields(KEY, "t", {"a": b"fine", "b": _sample_field()})


def test_decrypt_into_wipes_the_output_buffer_when_the_tag_fails() -> None:
    field = bytearray(fmt.encrypt_field(KEY.aes, PREFIX, b"do not leak me"))
    field[-1] ^= 1
    out = bytearray(14)
    with pytest.raises(DecryptionError):
        fmt.decrypt_field_into(KEY.aes, field, out)
    assert out == bytes(14)


def test_encrypt_into_and_decrypt_into_reuse_caller_buffers() -> None:
    plaintext = os.urandom(100_000)
    out = bytearray(fmt.encrypted_size(PREFIX, len(plaintext)))
    back = bytearray(len(plaintext))
    for _ in range(3):
        fmt.encrypt_field_into(KEY.aes, PREFIX, plaintext, memoryview(out))
        assert fmt.decrypt_field_into(KEY.aes, out, back) == len(plaintext)
        assert back == plaintext


def test_a_wiped_data_key_is_zero_and_unusable() -> None:
    key = new_key()
    key.wipe()
    assert key.buffer == bytes(32)
    with pytest.raises(DecryptionError):
        _ = key.aes
    assert "redacted" in repr(key)


@settings(max_examples=12, deadline=None)
@given(st.integers(min_value=0, max_value=1 << 20), st.binary(min_size=1, max_size=64))
def test_round_trips_hold_up_to_one_mebibyte(size: int, pattern: bytes) -> None:
    plaintext = (pattern * (size // len(pattern) + 1))[:size]
    if is_encrypted(plaintext):
        return
    field = fmt.encrypt_field(KEY.aes, PREFIX, plaintext)
    assert len(field) == len(PREFIX) + 12 + size + 16
    assert fmt.decrypt_field(KEY.aes, field) == plaintext


@CI
@given(st.binary(max_size=400))
def test_the_parser_raises_only_the_declared_error_on_arbitrary_bytes(data: bytes) -> None:
    """C-07 in CI form (atheris runs nightly-style fuzzing; this is hypothesis over the parser)."""
    for candidate in (data, b"\x03IRON" + data):
        with pytest.raises(DecryptionError):
            fmt.decrypt_field(KEY.aes, candidate)
        with contextlib.suppress(DecryptionError):
            fmt.parse_field(candidate)


@CI
@given(st.binary(max_size=120), st.integers(0, 0xFFFF))
def test_arbitrary_headers_behind_a_valid_lead_never_escape_the_opaque_error(
    header: bytes, claimed_len: int
) -> None:
    field = b"\x03IRON" + claimed_len.to_bytes(2, "big") + header + bytes(40)
    with pytest.raises(DecryptionError):
        fmt.decrypt_field(KEY.aes, field)
