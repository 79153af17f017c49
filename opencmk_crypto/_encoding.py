"""Base64 and canonical JSON shared by every format (DESIGN.md §2)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ._errors import CryptoError


def b64e(data: bytes) -> str:
    """Standard base64 with padding (RFC 4648 §4)."""
    return base64.b64encode(data).decode("ascii")


def b64d(text: str) -> bytes:
    """Strict inverse of :func:`b64e`; raises :class:`CryptoError` on anything else.

    Besides the alphabet and padding, the unused low bits of the last character must be
    zero (as libsodium's ``sodium_base642bin`` requires): otherwise two different strings
    would decode to the same bytes, and a "changed" signature could still verify.
    """
    if not isinstance(text, str):
        raise CryptoError("base64 value must be a string")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise CryptoError("invalid base64") from None
    if b64e(raw) != text:
        raise CryptoError("non-canonical base64")
    return raw


def canonical_json(obj: Any) -> bytes:
    """UTF-8 JSON with sorted keys and no whitespace (used for statement payloads)."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Duplicate keys are read differently by different parsers (first vs last wins);
    # refusing them means the signer and every verifier see the same object.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError("duplicate key in JSON object")
        result[key] = value
    return result


def strict_json_loads(data: bytes) -> Any:
    """Parse UTF-8 JSON, refusing duplicate keys, NaN/Infinity and invalid UTF-8."""
    return json.loads(
        data.decode("utf-8"),
        object_pairs_hook=_no_duplicates,
        parse_constant=_reject_constant,
    )
