"""EDEK wire format: IronCore's `EncryptedDeks` protobuf, hand-rolled (DESIGN.md §6.3).

    message EncryptedDek {
      bytes encryptedDekData = 1; int32 kmsConfigId = 2; int32 leasedKeyId = 3;
      bytes leasedKeyIv = 4; EncryptedDeks encryptedLeasedKeyData = 5; string tenantId = 6; }
    message EncryptedDeks { repeated EncryptedDek encryptedDeks = 1; }

Decoding is strict: anything that is not exactly this schema raises ProxyError(203).
"""

from __future__ import annotations

import base64
import binascii
from typing import NamedTuple

from tenant_security_proxy.errors import INVALID_PROVIDED_EDEK, ProxyError

_VARINT, _LEN = 0, 2
_MAX_DEPTH = 2  # an EDEK holds a leased-key EDEK, which holds no further nesting
_MAX_EDEK_BYTES = 64 * 1024


class InvalidEdekError(ProxyError):
    def __init__(self, message: str = "Provided EDEK is not valid.") -> None:
        super().__init__(INVALID_PROVIDED_EDEK, message)


class EncryptedDek(NamedTuple):
    # A NamedTuple rather than a frozen dataclass: immutable too, and several times cheaper to
    # construct, which matters because every unwrap parses one.
    encrypted_dek_data: bytes
    kms_config_id: int
    leased_key_id: int = 0
    leased_key_iv: bytes = b""
    encrypted_leased_key_data: tuple[EncryptedDek, ...] = ()
    tenant_id: str = ""


# ---- encoding ---------------------------------------------------------------------------


_SMALL_VARINTS = [bytes([i]) for i in range(128)]


def _varint(value: int) -> bytes:
    if 0 <= value < 128:
        return _SMALL_VARINTS[value]
    if value < 0:
        value += 1 << 64  # proto3 int32: negative values are sign-extended to 10 bytes
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _len_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | _LEN) + _varint(len(payload)) + payload


def encode_dek(dek: EncryptedDek) -> bytes:
    # proto3: default values (0, empty) are not written.
    out = bytearray()
    if dek.encrypted_dek_data:
        out += _len_field(1, dek.encrypted_dek_data)
    if dek.kms_config_id:
        out += _varint(2 << 3 | _VARINT) + _varint(dek.kms_config_id)
    if dek.leased_key_id:
        out += _varint(3 << 3 | _VARINT) + _varint(dek.leased_key_id)
    if dek.leased_key_iv:
        out += _len_field(4, dek.leased_key_iv)
    if dek.encrypted_leased_key_data:
        out += _len_field(5, encode_deks(dek.encrypted_leased_key_data))
    if dek.tenant_id:
        out += _len_field(6, dek.tenant_id.encode())
    return bytes(out)


def encode_deks(deks: tuple[EncryptedDek, ...] | list[EncryptedDek]) -> bytes:
    return b"".join(_len_field(1, encode_dek(d)) for d in deks)


def encode_edek_b64(dek: EncryptedDek) -> str:
    return base64.b64encode(encode_deks((dek,))).decode("ascii")


class LeasedEdekTemplate:
    """Pre-encoded constant fields of every EDEK made under one leased key (hot path).

    Only `encryptedDekData` and `leasedKeyIv` change per wrap; the config id, leased key id,
    wrapped leased key and tenant id are encoded once. Output is byte-identical to encode_deks.
    """

    __slots__ = ("_middle", "_prefix", "_tail")

    # Leased wraps always produce 48 bytes (32-byte DEK + GCM tag) under a 12-byte IV.
    DATA_LEN, IV_LEN = 48, 12

    def __init__(self, template: EncryptedDek) -> None:
        middle = encode_dek(EncryptedDek(b"", template.kms_config_id, template.leased_key_id))
        tail = b""
        if template.encrypted_leased_key_data:
            tail += _len_field(5, encode_deks(template.encrypted_leased_key_data))
        if template.tenant_id:
            tail += _len_field(6, template.tenant_id.encode())
        self._middle = middle + _varint(4 << 3 | _LEN) + _varint(self.IV_LEN)
        self._tail = tail
        inner_len = 1 + len(_varint(self.DATA_LEN)) + self.DATA_LEN
        inner_len += len(self._middle) + self.IV_LEN + len(tail)
        self._prefix = b"".join(
            (
                _varint(1 << 3 | _LEN),
                _varint(inner_len),
                _varint(1 << 3 | _LEN),
                _varint(self.DATA_LEN),
            )
        )

    def encode_b64(self, data: bytes, iv: bytes) -> str:
        if len(data) != self.DATA_LEN or len(iv) != self.IV_LEN:
            raise ValueError("leased EDEK template used with unexpected sizes")
        raw = b"".join((self._prefix, data, self._middle, iv, self._tail))
        return base64.b64encode(raw).decode("ascii")


# ---- decoding ---------------------------------------------------------------------------


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    if pos < len(buf) and buf[pos] < 0x80:  # fast path: tags and short lengths are one byte
        return buf[pos], pos + 1
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise InvalidEdekError()
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _int32(value: int) -> int:
    if value >= 1 << 63:
        value -= 1 << 64
    if not -(1 << 31) <= value < 1 << 31:
        raise InvalidEdekError()
    return value


# Every valid key byte of EncryptedDek: (field << 3 | wire type) for fields 1-6, all < 0x80,
# so a key with the continuation bit set can only be an unknown field and is refused.
_KEY_DATA, _KEY_CONFIG, _KEY_LEASED_ID = 0x0A, 0x10, 0x18
_KEY_IV, _KEY_LEASED_DATA, _KEY_TENANT = 0x22, 0x2A, 0x32
_LEN_KEYS = frozenset({_KEY_DATA, _KEY_IV, _KEY_LEASED_DATA, _KEY_TENANT})


def _decode_dek(buf: bytes, depth: int) -> EncryptedDek:
    # One flat loop with inline varints: this parser runs on every unwrap, and Python function
    # calls per field were most of its cost.
    data, config_id, leased_id, iv = b"", 0, 0, b""
    leased: tuple[EncryptedDek, ...] = ()
    tenant_id = ""
    pos, size = 0, len(buf)
    while pos < size:
        key = buf[pos]
        pos += 1
        value = shift = 0
        while True:  # the varint after the key: an int value, or a length
            if pos >= size or shift > 63:
                raise InvalidEdekError()
            byte = buf[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                break
            shift += 7
        if key == _KEY_CONFIG:
            config_id = _int32(value)
        elif key == _KEY_LEASED_ID:
            leased_id = _int32(value)
        elif key in _LEN_KEYS:
            end = pos + value
            if end > size:
                raise InvalidEdekError()
            field = buf[pos:end]
            pos = end
            if key == _KEY_DATA:
                data = field
            elif key == _KEY_IV:
                iv = field
            elif key == _KEY_LEASED_DATA:
                leased = _decode_leased(field, depth + 1)
            else:
                try:
                    tenant_id = field.decode("utf-8")
                except UnicodeDecodeError:
                    raise InvalidEdekError() from None
        else:
            raise InvalidEdekError()
    dek = EncryptedDek(data, config_id, leased_id, iv, leased, tenant_id)
    _check_semantics(dek)
    return dek


def _check_semantics(dek: EncryptedDek) -> None:
    if not dek.encrypted_dek_data or dek.kms_config_id <= 0:
        raise InvalidEdekError()
    if dek.leased_key_id:
        if len(dek.leased_key_iv) != 12 or not dek.encrypted_leased_key_data:
            raise InvalidEdekError()
    elif dek.leased_key_iv or dek.encrypted_leased_key_data:
        raise InvalidEdekError()


def _decode_deks(buf: bytes, depth: int) -> tuple[EncryptedDek, ...]:
    if depth > _MAX_DEPTH:
        raise InvalidEdekError()
    deks = []
    pos, size = 0, len(buf)
    while pos < size:
        if buf[pos] != _KEY_DATA:  # EncryptedDeks has only `repeated EncryptedDek = 1`
            raise InvalidEdekError()
        length, pos = _read_varint(buf, pos + 1)
        end = pos + length
        if end > size:
            raise InvalidEdekError()
        deks.append(_decode_dek(buf[pos:end], depth))
        pos = end
    if not deks:
        raise InvalidEdekError()
    return tuple(deks)


# Every EDEK made with one leased key carries the same wrapped leased key (ELK) bytes, so its
# parse is cached: the result is a pure function of the bytes and immutable (NamedTuples of
# bytes, ints and str). Bounded; only successful parses are kept.
_leased_cache: dict[bytes, tuple[EncryptedDek, ...]] = {}
_LEASED_CACHE_MAX = 4096


def _decode_leased(buf: bytes, depth: int) -> tuple[EncryptedDek, ...]:
    if depth > _MAX_DEPTH:  # before the cache: a cached ELK must not pass one level deeper
        raise InvalidEdekError()
    deks = _leased_cache.get(buf)
    if deks is None:
        deks = _decode_deks(buf, depth)
        if len(_leased_cache) >= _LEASED_CACHE_MAX:
            _leased_cache.pop(next(iter(_leased_cache)))  # oldest first
        _leased_cache[buf] = deks
    return deks


def decode_deks(buf: bytes) -> tuple[EncryptedDek, ...]:
    """Parse an `EncryptedDeks` message; raise InvalidEdekError (203) on anything malformed."""
    if len(buf) > _MAX_EDEK_BYTES:
        raise InvalidEdekError()
    return _decode_deks(buf, 1)


class _LeasedLayout:
    """The constant bytes of every EDEK made under one leased key (what LeasedEdekTemplate
    writes): `head + data + middle + iv + tail`, only `data` and `iv` differing per EDEK.

    An EDEK that is exactly this layout is the canonical encoding of one EncryptedDek whose
    fields, apart from `data` and `iv`, are those of the EDEK the layout was learnt from, and
    the strict parser accepts it as such: so `match` returns what `decode_deks` would, without
    walking the fields.
    """

    __slots__ = ("_data_at", "_iv_at", "_middle", "_size", "_template", "head", "tail")

    def __init__(self, raw: bytes, dek: EncryptedDek, head_len: int, middle: bytes) -> None:
        self._template = dek
        self._data_at = head_len
        self._iv_at = head_len + len(dek.encrypted_dek_data) + len(middle)
        self._middle = middle
        self._size = len(raw)
        self.head = raw[:head_len]
        self.tail = raw[self._iv_at + len(dek.leased_key_iv) :]

    def match(self, raw: bytes) -> EncryptedDek | None:
        data_at, iv_at = self._data_at, self._iv_at
        middle_at = iv_at - len(self._middle)
        if (
            len(raw) != self._size
            or not raw.endswith(self.tail)
            or not raw.startswith(self.head)
            or raw[middle_at:iv_at] != self._middle
        ):
            return None
        t = self._template
        return EncryptedDek(
            raw[data_at:middle_at],
            t.kms_config_id,
            t.leased_key_id,
            raw[iv_at : iv_at + 12],
            t.encrypted_leased_key_data,
            t.tenant_id,
        )


# Layouts by (size, last 16 bytes): the tail is the wrapped leased key and the tenant id, so
# all EDEKs of one leased key share an entry, whatever their data and IV. A real-world cache:
# a leased key makes every EDEK of its lifetime (an hour by default). Bounded; learnt only
# from EDEKs the strict parser accepted.
_layouts: dict[tuple[int, bytes], _LeasedLayout] = {}
_LAYOUT_CACHE_MAX = 4096
_LAYOUT_KEY_BYTES = 16


def _learn_layout(raw: bytes, dek: EncryptedDek) -> None:
    if not dek.leased_key_id or len(dek.leased_key_iv) != 12:
        return
    data = dek.encrypted_dek_data
    inner = encode_dek(dek)
    if encode_deks((dek,)) != raw:  # not the canonical single-EDEK form: no layout
        return
    head_len = 1 + len(_varint(len(inner))) + 1 + len(_varint(len(data)))
    middle = encode_dek(EncryptedDek(b"", dek.kms_config_id, dek.leased_key_id))
    middle += _varint(4 << 3 | _LEN) + _varint(12)
    layout = _LeasedLayout(raw, dek, head_len, middle)
    if len(layout.tail) < _LAYOUT_KEY_BYTES:
        return
    if len(_layouts) >= _LAYOUT_CACHE_MAX:
        _layouts.pop(next(iter(_layouts)))  # oldest first
    _layouts[(len(raw), raw[-_LAYOUT_KEY_BYTES:])] = layout


def decode_edek_b64(text: object) -> EncryptedDek:
    """The first EncryptedDek of a base64 EDEK string (IronCore: "safe to just use the first")."""
    if not isinstance(text, str) or not text:
        raise InvalidEdekError()
    try:
        raw = binascii.a2b_base64(text, strict_mode=True)  # strict, and faster than b64decode
    except (binascii.Error, ValueError):
        raise InvalidEdekError() from None
    layout = _layouts.get((len(raw), raw[-_LAYOUT_KEY_BYTES:]))
    if layout is not None:
        dek = layout.match(raw)
        if dek is not None:
            return dek
    deks = decode_deks(raw)
    if len(deks) == 1:
        _learn_layout(raw, deks[0])
    return deks[0]
