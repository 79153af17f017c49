"""IronCore v3 encrypted-field format (DESIGN.md §7), byte-compatible with IronCore's clients.

Layout of one encrypted field::

    0x03 | "IRON" | u16 BE header length N | v3DocumentHeader (N bytes) | IV (12) | ct || tag (16)

``v3DocumentHeader { bytes sig = 1; SaaSShieldHeader saas_shield = 3; }`` and
``SaaSShieldHeader { string tenant_id = 1; }``. ``sig`` is a 12-byte IV followed by the GCM tag of
the serialized ``SaaSShieldHeader`` under the document's DEK: it binds the tenant id to the key.
No AAD is used for the data itself (IronCore's format). A zero-length header (documents written
before headers existed) is accepted and has no signature to check.
"""

from __future__ import annotations

import hmac
import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import _protobuf as pb
from ._buffer import Buffer
from ._exceptions import AlreadyEncryptedError, DecryptionError

__all__ = [
    "IV_LEN",
    "OVERHEAD_WITHOUT_HEADER",
    "TAG_LEN",
    "DataKey",
    "ParsedField",
    "build_prefix",
    "decrypt_field",
    "decrypt_field_into",
    "encrypt_field",
    "encrypt_field_into",
    "encrypted_size",
    "is_encrypted",
    "parse_field",
    "plaintext_size",
    "verify_header",
    "wipe",
]

VERSION = 3
MAGIC = b"IRON"
_LEAD = bytes([VERSION]) + MAGIC
IV_LEN = 12
TAG_LEN = 16
DEK_LEN = 32
_SIG_LEN = IV_LEN + TAG_LEN
_FIXED = len(_LEAD) + 2  # version, magic, u16 header length
OVERHEAD_WITHOUT_HEADER = _FIXED + IV_LEN + TAG_LEN
_MAX_HEADER = 0xFFFF
_IN_PLACE_FROM = 64 * 1024
_VERIFIED_CACHE = 256


def wipe(buf: bytearray) -> None:
    """Overwrite a key or plaintext buffer with zeros (ASVS 11.7.2, as far as Python allows)."""
    buf[:] = bytes(len(buf))


class DataKey:
    """A document key (DEK) held in a wipeable buffer, with its AES-GCM context.

    ``cryptography`` copies the key into OpenSSL's context, which Python cannot clear; the
    context is dropped on :meth:`wipe` so it is freed as soon as nothing else references it.
    """

    __slots__ = ("_aes", "_key")

    def __init__(self, key: bytearray) -> None:
        if len(key) != DEK_LEN:
            wipe(key)
            raise DecryptionError("the proxy returned a data key of the wrong length")
        self._key = key
        self._aes: AESGCM | None = AESGCM(key)

    @property
    def aes(self) -> AESGCM:
        """The AES-256-GCM context; raises once the key has been wiped."""
        if self._aes is None:
            raise DecryptionError("data key already wiped")
        return self._aes

    @property
    def buffer(self) -> bytearray:
        """The raw key buffer (tests use it to check that the key was wiped)."""
        return self._key

    def wipe(self) -> None:
        """Zero the key buffer and drop the cipher context."""
        wipe(self._key)
        self._aes = None

    def __repr__(self) -> str:
        return "DataKey(<redacted>)"


def is_encrypted(data: Buffer) -> bool:
    """True if ``data`` starts like an IronCore v3 document (so encrypting it again is refused)."""
    return len(data) >= _FIXED and data[:5] == _LEAD


def _saas_shield_header(tenant_id: str) -> bytes:
    return pb.encode_bytes_field(1, tenant_id.encode("utf-8"))


def _signature(aes: AESGCM, iv: bytes, signed: bytes) -> bytes:
    # The GCM ciphertext of the header is discarded; only the tag serves as a MAC over it.
    return aes.encrypt(iv, signed, None)[-TAG_LEN:]


def build_prefix(aes: AESGCM, tenant_id: str) -> bytes:
    """Everything before the field's IV: version, magic, header length and signed header."""
    signed = _saas_shield_header(tenant_id)
    iv = os.urandom(IV_LEN)
    header = pb.encode_bytes_field(1, iv + _signature(aes, iv, signed)) + pb.encode_bytes_field(
        3, signed
    )
    if len(header) > _MAX_HEADER:
        raise AlreadyEncryptedError("tenant id too long for a v3 header")
    return _LEAD + struct.pack(">H", len(header)) + header


def encrypted_size(prefix: bytes, plaintext_len: int) -> int:
    """Size of an encrypted field for a given prefix and plaintext length."""
    return len(prefix) + IV_LEN + plaintext_len + TAG_LEN


def _refuse_if_encrypted(plaintext: Buffer) -> None:
    if len(plaintext) >= _FIXED and plaintext[:5] == _LEAD:
        raise AlreadyEncryptedError("refusing to encrypt an already encrypted document")


def encrypt_field_into(aes: AESGCM, prefix: bytes, plaintext: Buffer, out: memoryview) -> int:
    """Encrypt into ``out`` (exactly ``encrypted_size`` bytes); return the bytes written."""
    _refuse_if_encrypted(plaintext)
    size = len(prefix) + IV_LEN + len(plaintext) + TAG_LEN
    if len(out) != size:
        raise ValueError(f"output buffer must be exactly {size} bytes")
    iv = os.urandom(IV_LEN)  # NIST SP 800-38D §8.2.2: random 96-bit IV, fresh for every field
    start = len(prefix) + IV_LEN
    out[: len(prefix)] = prefix
    out[len(prefix) : start] = iv
    aes.encrypt_into(iv, plaintext, None, out[start:])
    return size


def encrypt_field(aes: AESGCM, prefix: bytes, plaintext: Buffer) -> bytes | bytearray:
    """Encrypt one field. Small fields are concatenated; large ones are written in place into
    one buffer, since a second copy of a megabyte costs as much as encrypting it."""
    if len(plaintext) < _IN_PLACE_FROM:
        _refuse_if_encrypted(plaintext)
        iv = os.urandom(IV_LEN)
        return prefix + iv + aes.encrypt(iv, plaintext, None)
    out = bytearray(len(prefix) + IV_LEN + len(plaintext) + TAG_LEN)
    encrypt_field_into(aes, prefix, plaintext, memoryview(out))
    return out


@dataclass(frozen=True, slots=True)
class ParsedField:
    """Offsets of one encrypted field; ``signed``/``sig`` are None for legacy empty headers."""

    tenant_id: str | None
    signed: bytes | None
    sig: bytes | None
    iv_start: int


def _parse_header(header: bytes) -> tuple[str, bytes, bytes]:
    fast = _parse_canonical(header)
    if fast is not None:
        return fast
    sig = signed = None
    for number, wire_type, value in pb.iter_fields(header):
        # Strict: only sig (1) and saas_shield (3), each once. A DCP header (2) is not ours.
        if wire_type != pb.LEN or not isinstance(value, bytes):
            raise ValueError("bad header field")
        if number == 1 and sig is None:
            sig = value
        elif number == 3 and signed is None:
            signed = value
        else:
            raise ValueError("unexpected header field")
    if sig is None or signed is None or len(sig) != _SIG_LEN:
        raise ValueError("incomplete header")
    fields = list(pb.iter_fields(signed))
    if len(fields) != 1 or fields[0][0] != 1 or not isinstance(fields[0][2], bytes):
        raise ValueError("bad SaaS Shield header")
    return fields[0][2].decode("utf-8"), signed, sig


def _short_len(buf: bytes, pos: int) -> tuple[int, int]:
    """A varint length of one or two bytes (all that a 64 KiB header can need)."""
    first = buf[pos]
    if first < 0x80:
        return first, pos + 1
    second = buf[pos + 1]
    if second >= 0x80:
        raise IndexError("long varint")
    return (first & 0x7F) | second << 7, pos + 2


def _parse_canonical(header: bytes) -> tuple[str, bytes, bytes] | None:
    """Fast path for the layout every IronCore client writes: sig (field 1) then saas_shield
    (field 3) holding only tenant_id. Anything else falls back to the generic strict parser."""
    try:
        if header[0] != 0x0A or header[1] != _SIG_LEN or header[30] != 0x1A:
            return None
        signed_len, pos = _short_len(header, 31)
        if pos + signed_len != len(header) or header[pos] != 0x0A:
            return None
        tenant_len, tenant_start = _short_len(header, pos + 1)
        if tenant_start + tenant_len != len(header):
            return None
    except IndexError:
        return None
    tenant = header[tenant_start:].decode("utf-8")
    return tenant, header[pos:], header[2:30]


def parse_field(data: Buffer) -> ParsedField:
    """Split an encrypted field; every malformation raises the opaque :class:`DecryptionError`."""
    if len(data) < _FIXED or data[:5] != _LEAD:
        # C-08: an unknown version is refused outright; there is no fallback to older formats.
        raise DecryptionError("not an IronCore v3 encrypted document")
    header_len = data[5] << 8 | data[6]
    iv_start = _FIXED + header_len
    if len(data) < iv_start + IV_LEN + TAG_LEN:
        raise DecryptionError()
    if header_len == 0:
        return ParsedField(None, None, None, iv_start)
    try:
        tenant_id, signed, sig = _parse_header(bytes(data[_FIXED:iv_start]))
    except (ValueError, UnicodeDecodeError):
        raise DecryptionError() from None
    return ParsedField(tenant_id, signed, sig, iv_start)


def verify_header(aes: AESGCM, parsed: ParsedField) -> None:
    """Check the header signature; a legacy field without header has nothing to check."""
    if parsed.sig is None or parsed.signed is None:
        return
    expected = _signature(aes, parsed.sig[:IV_LEN], parsed.signed)
    if not hmac.compare_digest(expected, parsed.sig[IV_LEN:]):
        raise DecryptionError()


def plaintext_size(data: Buffer) -> int:
    """Plaintext length of a well-formed encrypted field."""
    return len(data) - parse_field(data).iv_start - IV_LEN - TAG_LEN


def _open_into(aes: AESGCM, view: memoryview, iv_start: int, out: memoryview | bytearray) -> int:
    ct_start = iv_start + IV_LEN
    if len(out) != len(view) - ct_start - TAG_LEN:
        raise ValueError("output buffer must be exactly the plaintext length")
    try:
        return aes.decrypt_into(view[iv_start:ct_start], view[ct_start:], None, out)
    except InvalidTag:
        # cryptography writes unverified plaintext into `out` before it checks the tag.
        out[:] = bytes(len(out))
        raise DecryptionError() from None


def _iv_start(data: Buffer) -> int:
    # Slicing the caller's bytes/bytearray (not a memoryview): memoryview equality is slow.
    if len(data) < _FIXED or data[:5] != _LEAD:
        raise DecryptionError("not an IronCore v3 encrypted document")
    return _FIXED + (data[5] << 8 | data[6])


def decrypt_field_into(
    aes: AESGCM,
    data: Buffer,
    out: memoryview | bytearray,
    verified: set[bytes] | None = None,
) -> int:
    """Decrypt into ``out`` (exactly the plaintext length); on failure ``out`` is zeroed.

    ``verified`` is an optional cache of header bytes already verified under this key (cached
    keys use it: a header is a deterministic function of DEK and signature IV, so one that
    verified once verifies again).
    """
    iv_start = _iv_start(data)
    head = bytes(data[:iv_start])
    if verified is None or head not in verified:
        verify_header(aes, parse_field(data))
        if verified is not None and len(verified) < _VERIFIED_CACHE:
            verified.add(head)
    elif len(data) < iv_start + IV_LEN + TAG_LEN:
        raise DecryptionError()
    return _open_into(aes, memoryview(data), iv_start, out)


def decrypt_field(aes: AESGCM, data: Buffer, verified: set[bytes] | None = None) -> bytes:
    """Decrypt one field. (Use :func:`decrypt_field_into` for a buffer the caller can wipe.)"""
    iv_start = _iv_start(data)
    head = bytes(data[:iv_start])
    if verified is None or head not in verified:
        verify_header(aes, parse_field(data))
        if verified is not None and len(verified) < _VERIFIED_CACHE:
            verified.add(head)
    elif len(data) < iv_start + IV_LEN + TAG_LEN:
        raise DecryptionError()
    view = memoryview(data)
    try:
        # Zero-copy slices; the library allocates the plaintext once, as raw AESGCM would.
        return aes.decrypt(view[iv_start : iv_start + IV_LEN], view[iv_start + IV_LEN :], None)
    except InvalidTag:
        raise DecryptionError() from None
