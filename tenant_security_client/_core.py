"""Sans-I/O core shared by both clients: request bodies, response parsing, error mapping.

Nothing here touches the network. The clients send a :class:`Call` with their own transport and
hand the decoded JSON back to the parsers below, so both clients behave identically.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._deterministic import DerivedKey, DerivedKeySet
from ._exceptions import (
    ProxyError,
    TenantSecurityError,
    TransportError,
    error_from_code,
)
from ._format import DataKey
from ._metadata import RequestMetadata

__all__ = [
    "Call",
    "batch_unwrap_call",
    "batch_wrap_call",
    "decode_response",
    "derive_call",
    "event_call",
    "parse_batch_keys",
    "parse_derived",
    "parse_unwrap",
    "parse_wrap",
    "rekey_call",
    "report_call",
    "unwrap_call",
    "wrap_call",
]

#: HTTP statuses that mean "a gateway or the proxy could not take the request at all".
RETRYABLE_STATUSES = frozenset({502, 503, 504})


@dataclass(frozen=True, slots=True)
class Call:
    """One POST to ``/api/1/<route>``.

    ``retry_safe`` marks calls whose repetition changes nothing but the audit trail's count of
    key requests: wraps, unwraps, rekeys and derivations. Security events and operation reports
    are never repeated, since a duplicate would be a false record.
    """

    route: str
    body: bytes
    retry_safe: bool


def _encode(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def wrap_call(meta: RequestMetadata) -> Call:
    """Ask for a new DEK and its EDEK."""
    return Call("document/wrap", _encode(meta.to_body()), True)


def batch_wrap_call(meta: RequestMetadata, document_ids: list[str]) -> Call:
    """Ask for one DEK per document id."""
    body = meta.to_body()
    body["documentIds"] = document_ids
    return Call("document/batch-wrap", _encode(body), True)


def unwrap_call(meta: RequestMetadata, edek: str) -> Call:
    """Ask the proxy to unwrap one EDEK."""
    body = meta.to_body()
    body["encryptedDocumentKey"] = edek
    return Call("document/unwrap", _encode(body), True)


def batch_unwrap_call(meta: RequestMetadata, edeks: Mapping[str, str]) -> Call:
    """Ask the proxy to unwrap many EDEKs, keyed by document id."""
    body = meta.to_body()
    body["edeks"] = dict(edeks)
    return Call("document/batch-unwrap", _encode(body), True)


def rekey_call(meta: RequestMetadata, edek: str, new_tenant_id: str) -> Call:
    """Unwrap with ``meta.tenant_id``'s config and wrap the same DEK for ``new_tenant_id``."""
    body = meta.to_body()
    body["encryptedDocumentKey"] = edek
    body["newTenantId"] = new_tenant_id
    return Call("document/rekey", _encode(body), True)


def derive_call(meta: RequestMetadata, paths: Mapping[str, list[str]]) -> Call:
    """Derive deterministic keys for ``{secret_path: [derivation_path, ...]}``."""
    body = meta.to_body()
    body["paths"] = {secret: sorted(set(derivations)) for secret, derivations in paths.items()}
    body["derivationType"] = "sha512"
    body["secretType"] = "deterministic"
    return Call("key/derive-with-secret-path", _encode(body), True)


def event_call(meta: RequestMetadata, event: str, timestamp_millis: int) -> Call:
    """Report a security event (IronCore's TSC shape: the event inside ``iclFields``)."""
    body = meta.to_body(event=event)
    body["timestampMillis"] = timestamp_millis
    return Call("event/security-event", _encode(body), False)


def report_call(meta: RequestMetadata, edek: str, wraps: int, unwraps: int) -> Call:
    """Tell the proxy how often a cached key was used locally, so the tenant's audit sees it."""
    body = meta.to_body()
    body["operations"] = {edek: {"wraps": wraps, "unwraps": unwraps}}
    return Call("document/report-operations", _encode(body), False)


def _error_in(obj: Any) -> TenantSecurityError | None:
    if isinstance(obj, dict) and isinstance(obj.get("code"), int) and "message" in obj:
        return error_from_code(obj["code"], str(obj.get("message", "")))
    return None


def decode_response(status: int, body: bytes) -> Any:
    """Decode a proxy response, raising the mapped error for ``{"code", "message"}`` bodies."""
    try:
        obj = json.loads(body) if body.strip() else None
    except ValueError:
        obj = ...
    error = _error_in(obj)
    if error is not None and (status >= 400 or set(obj or ()) <= {"code", "message"}):
        raise error
    if status == 401:
        raise error_from_code(101, "the proxy rejected the API key")
    if status >= 400:
        raise TransportError(f"the proxy answered HTTP {status} without an error code")
    if obj is ...:
        raise TransportError("the proxy answered with invalid JSON")
    return obj


def is_retryable_status(status: int, body: bytes) -> bool:
    """A bare gateway error may be retried; an answer carrying a TSP error code never is.

    PR-06: the proxy already retries KMS-side failures (208, 209); retrying those here as well
    would multiply the load on a struggling KMS.
    """
    if status not in RETRYABLE_STATUSES:
        return False
    try:
        return _error_in(json.loads(body)) is None
    except ValueError:
        return True


def _b64(value: Any) -> bytearray:
    if not isinstance(value, str):
        raise ProxyError("the proxy response is missing a key")
    try:
        return bytearray(binascii.a2b_base64(value, strict_mode=True))
    except binascii.Error:
        raise ProxyError("the proxy returned a key that is not base64") from None


def _dict(obj: Any, name: str) -> dict[str, Any]:
    value = obj.get(name) if isinstance(obj, dict) else None
    if not isinstance(value, dict):
        raise ProxyError(f"the proxy response has no {name!r} object")
    return value


def parse_wrap(obj: Any) -> tuple[DataKey, str]:
    """``{"dek", "edek"}`` → (DEK, EDEK)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("edek"), str):
        raise ProxyError("the proxy response has no EDEK")
    return DataKey(_b64(obj.get("dek"))), obj["edek"]


def parse_unwrap(obj: Any) -> DataKey:
    """``{"dek"}`` → DEK."""
    if not isinstance(obj, dict):
        raise ProxyError("the proxy response is not an object")
    return DataKey(_b64(obj.get("dek")))


def parse_batch_keys(
    obj: Any, *, with_edek: bool
) -> tuple[dict[str, tuple[DataKey, str | None]], dict[str, TenantSecurityError]]:
    """``{"keys": {id: {...}}, "failures": {id: {code, message}}}`` → keys and errors by id."""
    keys: dict[str, tuple[DataKey, str | None]] = {}
    failures: dict[str, TenantSecurityError] = {}
    for doc_id, entry in _dict(obj, "keys").items():
        try:
            if with_edek:
                keys[doc_id] = parse_wrap(entry)
            else:
                keys[doc_id] = (parse_unwrap(entry), None)
        except TenantSecurityError as exc:
            failures[doc_id] = exc
    raw_failures = obj.get("failures") or {}
    for doc_id, entry in raw_failures.items() if isinstance(raw_failures, dict) else ():
        failures[doc_id] = _error_in(entry) or ProxyError("malformed batch failure")
    return keys, failures


def parse_derived(obj: Any, secret_path: str, derivation_path: str) -> DerivedKeySet:
    """Pick the key list for one (secret path, derivation path) out of a derive response."""
    derived = _dict(obj, "derivedKeys")
    entries = (derived.get(secret_path) or {}).get(derivation_path)
    if not isinstance(entries, list) or not entries:
        raise ProxyError("the proxy derived no key for this path")
    try:
        keys = [
            DerivedKey(
                tenant_secret_id=int(entry["tenantSecretId"]),
                current=bool(entry.get("current")),
                key=_b64(entry.get("derivedKey")),
            )
            for entry in entries
        ]
    except (KeyError, TypeError, ValueError):
        raise ProxyError("the proxy returned a malformed derived key") from None
    return DerivedKeySet(keys=keys, has_primary_config=bool(obj.get("hasPrimaryConfig")))
