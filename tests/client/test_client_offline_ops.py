"""Cached keys, streaming and the sans-I/O operations, driven without a network.

The operations are generators that yield the request they need; these tests answer them with
the exact JSON shapes of DESIGN.md §6.3, so the request bodies and the local cryptography are
checked here, and tests/client/test_against_proxy.py checks the same paths end to end.
"""

from __future__ import annotations

import base64
import io
import json
import os
import time
import tracemalloc
from typing import Any

import pytest

from tenant_security_client import (
    CachedKey,
    CachedKeyError,
    DecryptionError,
    DeterministicPlaintextField,
    EncryptedDocument,
    NoPrimaryKmsConfigurationError,
    RequestMetadata,
    UnknownTenantError,
)
from tenant_security_client import _core as core
from tenant_security_client import _format as fmt
from tenant_security_client import _operations as ops
from tenant_security_client import _streaming as streaming

from .helpers import new_key

META = RequestMetadata(tenant_id="tenant-a", requesting_id="svc", data_label="PII")


def drive(operation: ops.Operation[Any], *answers: Any) -> tuple[Any, list[dict[str, Any]]]:
    """Run an operation, answering each call in turn; return its result and the bodies sent."""
    sent = []
    try:
        call = next(operation)
        for answer in answers:
            sent.append({"route": call.route, **json.loads(call.body)})
            call = operation.send(answer)
        raise AssertionError("operation asked for more calls than answered")
    except StopIteration as done:
        return done.value, sent


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_encrypt_sends_the_wrap_envelope_and_decrypt_round_trips() -> None:
    dek = os.urandom(32)
    encrypted, sent = drive(
        ops.encrypt(META, {"a": b"alpha", "b": b""}), {"dek": b64(dek), "edek": "E1"}
    )
    assert sent == [
        {
            "route": "document/wrap",
            "tenantId": "tenant-a",
            "iclFields": {"requestingId": "svc", "dataLabel": "PII"},
            "customFields": {},
        }
    ]
    assert encrypted.edek == "E1"
    plain, sent = drive(ops.decrypt(META, encrypted), {"dek": b64(dek)})
    assert sent[0]["encryptedDocumentKey"] == "E1"
    assert plain.fields == {"a": b"alpha", "b": b""}


def test_keys_are_wiped_after_a_document_operation(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[fmt.DataKey] = []
    original = core.parse_wrap

    def spy(obj: Any) -> tuple[fmt.DataKey, str]:
        key, edek = original(obj)
        seen.append(key)
        return key, edek

    monkeypatch.setattr(core, "parse_wrap", spy)
    drive(ops.encrypt(META, {"a": b"x"}), {"dek": b64(os.urandom(32)), "edek": "E"})
    assert seen and seen[0].buffer == bytes(32)


def test_batch_encrypt_reports_proxy_and_local_failures_per_document() -> None:
    already = bytes(fmt.encrypt_field(new_key().aes, b"\x03IRON\x00\x00", b"x"))
    docs = {"ok": {"f": b"1"}, "denied": {"f": b"2"}, "double": {"f": already}}
    answer = {
        "keys": {"ok": {"dek": b64(os.urandom(32)), "edek": "E-ok"}},
        "failures": {"denied": {"code": 201, "message": "unknown tenant"}},
    }
    result, sent = drive(ops.encrypt_batch(META, docs), answer)
    assert sent[0]["documentIds"] == ["ok", "denied"]
    assert set(result.successes) == {"ok"}
    assert isinstance(result.failures["denied"], UnknownTenantError)
    assert result.failures["double"].code == 901


def test_batch_decrypt_isolates_a_tampered_document() -> None:
    dek = os.urandom(32)
    good, _ = drive(ops.encrypt(META, {"f": b"fine"}), {"dek": b64(dek), "edek": "E"})
    bad_field = bytearray(good.fields["f"])
    bad_field[-1] ^= 1
    docs = {"good": good, "bad": EncryptedDocument({"f": bad_field}, "E")}
    result, sent = drive(
        ops.decrypt_batch(META, docs),
        {"keys": {"good": {"dek": b64(dek)}, "bad": {"dek": b64(dek)}}},
    )
    assert sent[0]["edeks"] == {"good": "E", "bad": "E"}
    assert result.successes["good"].fields == {"f": b"fine"}
    assert isinstance(result.failures["bad"], DecryptionError)


def _derive_answer(*keys: tuple[int, bool, bytes], primary: bool = True) -> dict[str, Any]:
    entries = [{"derivedKey": b64(k), "tenantSecretId": i, "current": c} for i, c, k in keys]
    return {"hasPrimaryConfig": primary, "derivedKeys": {"users": {"email": entries}}}


def test_deterministic_encrypt_rotate_and_search_terms() -> None:
    old, new = os.urandom(64), os.urandom(64)
    field = DeterministicPlaintextField(b"a@b.c", "email", "users")
    enc, sent = drive(ops.deterministic_encrypt(META, field), _derive_answer((1, True, old)))
    assert sent[0]["route"] == "key/derive-with-secret-path"
    assert sent[0]["paths"] == {"users": ["email"]}
    assert (sent[0]["derivationType"], sent[0]["secretType"]) == ("sha512", "deterministic")
    again, _ = drive(ops.deterministic_encrypt(META, field), _derive_answer((1, True, old)))
    assert again == enc  # deterministic
    both = _derive_answer((2, True, new), (1, False, old))
    rotated, _ = drive(ops.deterministic_rotate(META, enc), both)
    assert rotated.ciphertext[:4] == (2).to_bytes(4, "big")
    unchanged, _ = drive(ops.deterministic_rotate(META, rotated), both)
    assert unchanged == rotated
    plain, _ = drive(ops.deterministic_decrypt(META, enc), both)
    assert plain.plaintext == b"a@b.c"
    terms, _ = drive(ops.search_terms(META, field), both)
    assert [t.ciphertext for t in terms] == [rotated.ciphertext, enc.ciphertext]


def test_deterministic_encrypt_requires_a_primary_config() -> None:
    field = DeterministicPlaintextField(b"x", "email", "users")
    with pytest.raises(NoPrimaryKmsConfigurationError):
        drive(
            ops.deterministic_encrypt(META, field),
            _derive_answer((1, True, os.urandom(64)), primary=False),
        )


def _cached(reports: list[core.Call], **limits: Any) -> CachedKey:
    return CachedKey(new_key(), "EDEK-1", META, reports.append, **limits)


def test_cached_key_round_trips_and_reports_its_uses_on_close() -> None:
    reports: list[core.Call] = []
    with _cached(reports) as key:
        docs = [key.encrypt({"n": str(i).encode()}) for i in range(3)]
        assert [key.decrypt(d).fields["n"] for d in docs] == [b"0", b"1", b"2"]
        buffer = key._key.buffer  # type: ignore[union-attr]
    assert buffer == bytes(32)
    assert len(reports) == 1 and reports[0].route == "document/report-operations"
    body = json.loads(reports[0].body)
    assert body["tenantId"] == "tenant-a"
    assert body["operations"] == {"EDEK-1": {"wraps": 3, "unwraps": 3}}


def test_cached_key_refuses_use_after_close_expiry_or_use_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reports: list[core.Call] = []
    key = _cached(reports, max_uses=2)
    key.encrypt({"a": b"1"})
    key.encrypt({"a": b"2"})
    with pytest.raises(CachedKeyError, match="use limit"):
        key.encrypt({"a": b"3"})
    key.close()
    with pytest.raises(CachedKeyError, match="closed"):
        key.encrypt({"a": b"4"})
    expiring = _cached(reports, max_age=5)
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now + 6)
    with pytest.raises(CachedKeyError, match="expired"):
        expiring.encrypt({"a": b"5"})


def test_cached_key_refuses_documents_of_another_edek_and_unused_keys_report_nothing() -> None:
    reports: list[core.Call] = []
    key = _cached(reports)
    doc = key.encrypt({"a": b"1"})
    with pytest.raises(DecryptionError):
        key.decrypt(EncryptedDocument(doc.fields, "OTHER"))
    key.close()
    _cached(reports).close()
    assert len(reports) == 1


def test_cached_key_encrypt_into_output_is_a_standard_field() -> None:
    reports: list[core.Call] = []
    key = _cached(reports)
    out = bytearray(key.encrypted_size(5))
    key.encrypt_into(b"hello", out)
    back = bytearray(5)
    key.decrypt_into(out, back)
    assert back == b"hello"
    assert key.decrypt(EncryptedDocument({"f": out}, "EDEK-1")).fields["f"] == b"hello"


def test_streaming_round_trip_is_a_standard_v3_field() -> None:
    key = new_key()
    plaintext = os.urandom(streaming.CHUNK_SIZE * 3 + 123)
    encrypted = io.BytesIO()
    streaming.encrypt_stream(key, "tenant-a", io.BytesIO(plaintext), encrypted)
    assert fmt.decrypt_field(key.aes, encrypted.getvalue()) == plaintext
    out = io.BytesIO()
    assert streaming.decrypt_stream(key, io.BytesIO(encrypted.getvalue()), out) == len(plaintext)
    assert out.getvalue() == plaintext
    # and a field written by the in-memory path streams back too
    field = fmt.encrypt_field(key.aes, fmt.build_prefix(key.aes, "t"), plaintext)
    out = io.BytesIO()
    streaming.decrypt_stream(key, io.BytesIO(bytes(field)), out)
    assert out.getvalue() == plaintext


@pytest.mark.parametrize("where", ["header", "iv", "first-chunk", "last-chunk", "tag", "truncated"])
def test_streaming_decrypt_writes_nothing_when_anything_is_tampered(where: str) -> None:
    key = new_key()
    encrypted = io.BytesIO()
    streaming.encrypt_stream(key, "tenant-a", io.BytesIO(os.urandom(600_000)), encrypted)
    data = bytearray(encrypted.getvalue())
    header_end = fmt.parse_field(data).iv_start
    position = {"header": 20, "iv": header_end + 3, "first-chunk": header_end + 40,
                "last-chunk": len(data) - 30, "tag": len(data) - 1}  # fmt: skip
    if where == "truncated":
        data = data[:-1]
    else:
        data[position[where]] ^= 0x10
    out = io.BytesIO()
    with pytest.raises(DecryptionError):
        streaming.decrypt_stream(key, io.BytesIO(bytes(data)), out)
    assert out.getvalue() == b""


def test_streaming_refuses_already_encrypted_input() -> None:
    key = new_key()
    encrypted = io.BytesIO()
    streaming.encrypt_stream(key, "t", io.BytesIO(b"abc"), encrypted)
    with pytest.raises(Exception, match="already encrypted"):
        streaming.encrypt_stream(key, "t", io.BytesIO(encrypted.getvalue()), io.BytesIO())


class _Zeros(io.RawIOBase):
    """A readable stream of `size` zero bytes that never exists in memory at once."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        n = min(len(buf), self.left)
        buf[:n] = bytes(n)
        self.left -= n
        return n


class _Sink(io.RawIOBase):
    def __init__(self) -> None:
        self.count = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.count += len(data)
        return len(data)


def test_streaming_encrypt_uses_constant_memory() -> None:
    key = new_key()
    size = 64 * 1024 * 1024
    tracemalloc.start()
    try:
        sink = _Sink()
        streaming.encrypt_stream(key, "t", io.BufferedReader(_Zeros(size)), sink)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (
        sink.count == size + fmt.OVERHEAD_WITHOUT_HEADER + len(fmt.build_prefix(key.aes, "t")) - 7
    )
    assert peak < 4 * 1024 * 1024


@pytest.mark.parametrize("where", [-1, -20, 60])
def test_cached_key_fast_path_still_rejects_tampered_fields(where: int) -> None:
    key = _cached([])
    doc = key.encrypt({"f": b"x" * 100})
    field = bytearray(doc.fields["f"])
    field[where] ^= 1
    with pytest.raises(DecryptionError):
        key.decrypt(EncryptedDocument({"f": field}, "EDEK-1"))


def test_cached_key_decrypts_fields_written_by_the_uncached_path_under_the_same_key() -> None:
    dek = new_key()
    reports: list[core.Call] = []
    field = ops.encrypt_fields(dek, "tenant-a", {"f": b"from elsewhere"})["f"]
    key = CachedKey(fmt.DataKey(bytearray(dek.buffer)), "EDEK-1", META, reports.append)
    assert key.decrypt(EncryptedDocument({"f": field}, "EDEK-1")).fields == {"f": b"from elsewhere"}
    forged = bytearray(field)
    forged[30] ^= 1  # inside the header signature
    with pytest.raises(DecryptionError):
        key.decrypt(EncryptedDocument({"f": forged}, "EDEK-1"))


def test_streaming_decrypt_uses_constant_memory_and_spools_only_ciphertext(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = new_key()
    size = 24 * 1024 * 1024
    encrypted = tmp_path / "doc.enc"
    with encrypted.open("wb") as dst:
        streaming.encrypt_stream(key, "t", io.BufferedReader(_Zeros(size)), dst)  # type: ignore[arg-type]
    spooled: list[bytes] = []
    real_write = streaming.tempfile.SpooledTemporaryFile.write

    def spy(self: Any, data: Any) -> int:
        spooled.append(bytes(data[:16]))
        return real_write(self, data)

    monkeypatch.setattr(streaming.tempfile.SpooledTemporaryFile, "write", spy)
    tracemalloc.start()
    try:
        sink = _Sink()
        with encrypted.open("rb") as src:
            streaming.decrypt_stream(key, src, sink, spool_memory=1024 * 1024)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sink.count == size
    assert peak < 6 * 1024 * 1024
    assert spooled and all(chunk != bytes(16) for chunk in spooled)  # plaintext is all zeros


def test_only_key_requests_are_marked_safe_to_retry() -> None:
    assert core.wrap_call(META).retry_safe
    assert core.unwrap_call(META, "E").retry_safe
    assert core.batch_unwrap_call(META, {"a": "E"}).retry_safe
    assert core.rekey_call(META, "E", "other").retry_safe
    assert core.derive_call(META, {"s": ["d"]}).retry_safe
    assert not core.event_call(META, "USER_LOGIN", 1).retry_safe
    assert not core.report_call(META, "E", 1, 0).retry_safe


def test_a_field_moved_into_another_document_fails_to_decrypt() -> None:
    a, b = new_key(), new_key()
    field_of_a = ops.encrypt_fields(a, "tenant-a", {"f": b"belongs to a"})["f"]
    with pytest.raises(DecryptionError):
        ops.decrypt_fields(b, {"f": field_of_a})


def test_documents_the_proxy_did_not_answer_for_are_reported_as_failures() -> None:
    answer = {"keys": {"a": {"dek": b64(os.urandom(32)), "edek": "E"}}, "failures": {}}
    result, _ = drive(ops.encrypt_batch(META, {"a": {"f": b"1"}, "b": {"f": b"2"}}), answer)
    assert set(result.successes) == {"a"}
    assert result.failures["b"].code == 100


def test_keys_are_wiped_when_decryption_fails_half_way(monkeypatch: pytest.MonkeyPatch) -> None:
    dek = os.urandom(32)
    encrypted, _ = drive(ops.encrypt(META, {"a": b"1", "b": b"2"}), {"dek": b64(dek), "edek": "E"})
    broken = dict(encrypted.fields)
    broken["b"] = bytes(broken["b"][:-1]) + bytes([broken["b"][-1] ^ 1])
    seen: list[fmt.DataKey] = []
    original = core.parse_unwrap
    monkeypatch.setattr(core, "parse_unwrap", lambda obj: seen.append(original(obj)) or seen[-1])
    with pytest.raises(DecryptionError):
        drive(ops.decrypt(META, EncryptedDocument(broken, "E")), {"dek": b64(dek)})
    assert seen[0].buffer == bytes(32)
