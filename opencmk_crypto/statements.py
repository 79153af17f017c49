"""Signed statements (DESIGN.md §3).

A statement is ``{"type", "kid", "payload", "sig"}``. The Ed25519 signature covers
``b"OpenCMK/1/" + type + b"\\n" + payload_bytes``: the type is bound into the signed bytes, so a
statement of one type can never be passed off as another, and the payload is signed as exact
bytes, so no JSON canonicalisation is needed to verify.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import nacl.exceptions
import nacl.signing

from ._encoding import b64d, b64e, canonical_json, strict_json_loads
from ._errors import CryptoError, StatementError
from ._keys import kid

STATEMENT_TYPES = frozenset(
    {"proxy-cluster", "proxy-cluster-revocation", "tenant-root", "tenant-policy"}
)
SIGNING_PREFIX = b"OpenCMK/1/"
STATEMENT_FIELDS = frozenset({"type", "kid", "payload", "sig"})
# Policies list every config of a tenant; 256 KiB is far above any real one and bounds parsing.
MAX_PAYLOAD_BYTES = 256 * 1024
SIGNATURE_SIZE = 64
# RFC 3339 in UTC only: "Z" or "+00:00", optional fraction.
_ISSUED_AT_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|\+00:00)")


def signed_bytes(type_: str, payload_bytes: bytes) -> bytes:
    """The exact bytes an Ed25519 signature of a statement covers."""
    return SIGNING_PREFIX + type_.encode("utf-8") + b"\n" + payload_bytes


def issued_at_now() -> str:
    """The current time in the form payloads carry in ``issued_at`` (RFC 3339 UTC, seconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_type(type_: object) -> str:
    if not isinstance(type_, str) or type_ not in STATEMENT_TYPES:
        raise StatementError("unknown statement type")
    return type_


def _check_issued_at(value: object) -> None:
    if not isinstance(value, str) or _ISSUED_AT_RE.fullmatch(value) is None:
        raise StatementError("issued_at must be an RFC 3339 UTC timestamp")
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise StatementError("issued_at is not a valid date") from None


def check_common_payload(type_: str, payload: object) -> dict[str, Any]:
    """Checks the fields every payload carries: ``type`` (equal to the statement's),
    ``vendor_id`` and ``issued_at``."""
    if not isinstance(payload, dict):
        raise StatementError("payload must be a JSON object")
    if payload.get("type") != type_:
        raise StatementError("payload type does not match the statement type")
    vendor_id = payload.get("vendor_id")
    valid_vendor = (isinstance(vendor_id, str) and vendor_id != "") or (
        isinstance(vendor_id, int) and not isinstance(vendor_id, bool)
    )
    if not valid_vendor:
        raise StatementError("payload needs a vendor_id")
    _check_issued_at(payload.get("issued_at"))
    return payload


def sign_statement(
    type_: str, payload: Mapping[str, Any], signing_key: nacl.signing.SigningKey
) -> dict[str, str]:
    """Signs ``payload`` as a statement of ``type_``; returns the statement dict."""
    _check_type(type_)
    payload_dict = check_common_payload(type_, dict(payload))
    try:
        payload_bytes = canonical_json(payload_dict)
    except (TypeError, ValueError, UnicodeEncodeError):
        raise StatementError("payload is not serialisable as JSON") from None
    if len(payload_bytes) > MAX_PAYLOAD_BYTES:
        raise StatementError("payload too large")
    signature = signing_key.sign(signed_bytes(type_, payload_bytes)).signature
    return {
        "type": type_,
        "kid": kid(bytes(signing_key.verify_key)),
        "payload": b64e(payload_bytes),
        "sig": b64e(signature),
    }


def _decode_structure(statement: object) -> tuple[str, str, bytes, bytes]:
    if not isinstance(statement, Mapping) or set(statement) != STATEMENT_FIELDS:
        raise StatementError("statement must have exactly type, kid, payload and sig")
    type_, kid_, payload, sig = (statement[k] for k in ("type", "kid", "payload", "sig"))
    if not all(isinstance(v, str) for v in (type_, kid_, payload, sig)):
        raise StatementError("statement fields must be strings")
    _check_type(type_)
    try:
        payload_bytes = b64d(payload)
        sig_bytes = b64d(sig)
    except CryptoError:
        raise StatementError("statement payload or sig is not valid base64") from None
    if len(payload_bytes) > MAX_PAYLOAD_BYTES:
        raise StatementError("payload too large")
    if len(sig_bytes) != SIGNATURE_SIZE:
        raise StatementError("signature must be 64 bytes")
    return type_, kid_, payload_bytes, sig_bytes


def verify_statement(
    statement: Mapping[str, Any], *, expected_type: str, public_key: bytes
) -> dict[str, Any]:
    """Verifies a statement and returns its payload; raises :class:`StatementError`.

    Order matters: structure, type, kid, then the signature, and only then is the payload
    parsed, so no attacker-controlled JSON is parsed before it is known to be authentic.
    """
    _check_type(expected_type)
    type_, kid_, payload_bytes, sig_bytes = _decode_structure(statement)
    if type_ != expected_type:
        raise StatementError("statement has the wrong type")
    try:
        expected_kid = kid(public_key)
    except CryptoError:
        raise StatementError("public key must be 32 bytes") from None
    if kid_ != expected_kid:
        raise StatementError("statement was signed by a different key")
    try:
        nacl.signing.VerifyKey(bytes(public_key)).verify(
            signed_bytes(expected_type, payload_bytes), sig_bytes
        )
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError):
        raise StatementError("bad statement signature") from None
    return _parse_payload(expected_type, payload_bytes)


def _parse_payload(type_: str, payload_bytes: bytes) -> dict[str, Any]:
    try:
        payload = strict_json_loads(payload_bytes)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise StatementError("payload is not valid JSON") from None
    return check_common_payload(type_, payload)


def statement_payload_unverified(statement: Mapping[str, Any]) -> dict[str, Any]:
    """Decodes the payload WITHOUT checking the signature: for display only, never for trust."""
    type_, _kid, payload_bytes, _sig = _decode_structure(statement)
    return _parse_payload(type_, payload_bytes)
