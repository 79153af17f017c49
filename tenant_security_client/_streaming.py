"""Streaming encryption and decryption of large files in constant memory, standard v3 format.

A v3 document is one AES-GCM message whose tag sits at the very end, so a one-pass decryptor
would have to hand out plaintext before it knows the data is authentic. IronCore's Java client
does exactly that and warns the caller not to use the output until the call returns. We don't:

1. **Verify pass.** Read the source once, feeding the GCM decryptor (its output goes to a scratch
   buffer that is overwritten each chunk and wiped at the end) while copying the *ciphertext* into
   a private spool (``tempfile.SpooledTemporaryFile``: memory up to ``spool_memory`` bytes, then an
   unlinked temporary file). The tag is checked at the end; on failure nothing was written.
2. **Release pass.** Decrypt the spooled ciphertext again and write plaintext to the destination.
   The spool is our own copy, so a source that changes between passes cannot slip in unverified
   data, and only ciphertext ever reaches the disk.

The price is a second AES pass and one spool write/read; memory stays at a few chunks. A chunked
format with per-chunk tags would avoid the second pass but would not be readable by IronCore's
clients, so it is not offered.
"""

from __future__ import annotations

import os
import struct
import tempfile
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from . import _format as fmt
from ._exceptions import AlreadyEncryptedError, DecryptionError

__all__ = ["CHUNK_SIZE", "decrypt_stream", "encrypt_stream"]

CHUNK_SIZE = 256 * 1024
SPOOL_MEMORY = 8 * 1024 * 1024


def _read_exactly(src: BinaryIO, n: int) -> bytes:
    parts = []
    while n > 0:
        part = src.read(n)
        if not part:
            break
        parts.append(part)
        n -= len(part)
    return b"".join(parts)


def encrypt_stream(key: fmt.DataKey, tenant_id: str, src: BinaryIO, dst: BinaryIO) -> int:
    """Encrypt ``src`` to ``dst`` as one v3 document; return the number of bytes written."""
    first = _read_exactly(src, CHUNK_SIZE)
    if fmt.is_encrypted(first):
        raise AlreadyEncryptedError("refusing to encrypt an already encrypted document")
    iv = os.urandom(fmt.IV_LEN)
    prefix = fmt.build_prefix(key.aes, tenant_id) + iv
    dst.write(prefix)
    encryptor = Cipher(algorithms.AES(key.buffer), modes.GCM(iv)).encryptor()
    out = bytearray(CHUNK_SIZE + 15)
    written = len(prefix)
    chunk = first
    while chunk:
        n = encryptor.update_into(chunk, out)
        dst.write(memoryview(out)[:n])
        written += n
        chunk = src.read(CHUNK_SIZE)
    encryptor.finalize()
    dst.write(encryptor.tag)
    return written + fmt.TAG_LEN


def _read_header(key: fmt.DataKey, src: BinaryIO) -> bytes:
    """Read and verify everything up to the data IV; return the IV."""
    fixed = _read_exactly(src, 7)
    if len(fixed) < 7 or fixed[:5] != b"\x03IRON":
        raise DecryptionError("not an IronCore v3 encrypted document")
    (header_len,) = struct.unpack(">H", fixed[5:])
    rest = _read_exactly(src, header_len + fmt.IV_LEN)
    head = fixed + rest
    # parse_field wants a complete field; give it a dummy tag to check the header alone.
    parsed = fmt.parse_field(head + bytes(fmt.TAG_LEN))
    fmt.verify_header(key.aes, parsed)
    return head[parsed.iv_start :]


def _cipher(key: fmt.DataKey, iv: bytes, tag: bytes | None = None) -> Cipher[modes.GCM]:
    return Cipher(algorithms.AES(key.buffer), modes.GCM(iv, tag))


def _verify_and_spool(key: fmt.DataKey, iv: bytes, src: BinaryIO, spool: BinaryIO) -> bytes:
    """Pass 1: authenticate while copying ciphertext to the spool; return the tag."""
    decryptor = _cipher(key, iv).decryptor()
    scratch = bytearray(CHUNK_SIZE + fmt.TAG_LEN + 15)
    held = b""  # the last TAG_LEN bytes seen so far: they may be the tag
    try:
        while chunk := src.read(CHUNK_SIZE):
            data = held + chunk
            body, held = data[: -fmt.TAG_LEN], data[-fmt.TAG_LEN :]
            if body:
                decryptor.update_into(body, scratch)
                spool.write(body)
        if len(held) != fmt.TAG_LEN:
            raise DecryptionError()
        try:
            decryptor.finalize_with_tag(held)
        except InvalidTag:
            raise DecryptionError() from None
        return held
    finally:
        fmt.wipe(scratch)


def _release(key: fmt.DataKey, iv: bytes, tag: bytes, spool: BinaryIO, dst: BinaryIO) -> int:
    """Pass 2: decrypt the authenticated spool to ``dst``."""
    decryptor = _cipher(key, iv, tag).decryptor()
    out = bytearray(CHUNK_SIZE + 15)
    written = 0
    try:
        while chunk := spool.read(CHUNK_SIZE):
            n = decryptor.update_into(chunk, out)
            dst.write(memoryview(out)[:n])
            written += n
        decryptor.finalize()  # cannot fail unless the private spool was corrupted
    except InvalidTag:
        raise DecryptionError() from None
    finally:
        fmt.wipe(out)
    return written


def decrypt_stream(
    key: fmt.DataKey, src: BinaryIO, dst: BinaryIO, *, spool_memory: int = SPOOL_MEMORY
) -> int:
    """Decrypt a v3 document from ``src`` to ``dst``; nothing is written unless the tag verifies.

    Returns the number of plaintext bytes written.
    """
    iv = _read_header(key, src)
    with tempfile.SpooledTemporaryFile(max_size=spool_memory) as spool:
        tag = _verify_and_spool(key, iv, src, spool)  # type: ignore[arg-type]
        spool.seek(0)
        return _release(key, iv, tag, spool, dst)  # type: ignore[arg-type]
