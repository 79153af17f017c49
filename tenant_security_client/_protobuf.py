"""The few protobuf wire-format rules the document header and EDEK need, hand-rolled.

Only length-delimited (wire type 2) and varint (wire type 0) fields occur in IronCore's header
and EDEK messages, so a full protobuf runtime would be a large dependency for ~60 lines.
Parsing is strict: anything malformed raises ``ValueError`` and callers turn that into their
own opaque error.
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["encode_bytes_field", "encode_varint", "encode_varint_field", "iter_fields"]

VARINT = 0
LEN = 2
_MAX_VARINT_BYTES = 10


def encode_varint(value: int) -> bytes:
    """Encode a non-negative integer as a base-128 varint."""
    if value < 0:
        raise ValueError("varints here are unsigned")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_bytes_field(number: int, payload: bytes) -> bytes:
    """Encode a length-delimited field (bytes, string or sub-message)."""
    return encode_varint(number << 3 | LEN) + encode_varint(len(payload)) + payload


def encode_varint_field(number: int, value: int) -> bytes:
    """Encode a varint field (int32/uint64 with non-negative values)."""
    return encode_varint(number << 3 | VARINT) + encode_varint(value)


def _read_varint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    result = 0
    for i in range(_MAX_VARINT_BYTES):
        if pos >= len(buf):
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return result, pos
    raise ValueError("varint too long")


def iter_fields(buf: bytes | memoryview) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield ``(field number, wire type, value)``; LEN values are bytes, VARINT values ints."""
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise ValueError("field number 0")
        if wire_type == VARINT:
            value, pos = _read_varint(buf, pos)
            yield number, wire_type, value
        elif wire_type == LEN:
            length, pos = _read_varint(buf, pos)
            if pos + length > len(buf):
                raise ValueError("truncated field")
            yield number, wire_type, bytes(buf[pos : pos + length])
            pos += length
        else:
            raise ValueError("unsupported wire type")
