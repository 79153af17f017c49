"""Event builders: the one shape every sink receives (docs/security-events.md).

```
{"event", "event_id", "tenant_id", "timestamp" (RFC 3339 UTC, ms), "source": "proxy"|"client",
 "icl_fields": {...}, "custom_fields": {...}, "details": {...}}
```

Nothing here ever takes key material: builders accept identifiers, names and numbers only, and
`scrub` removes anything under a secret-sounding key or any raw bytes from free-form `details`
(defence in depth against a future caller passing a whole config or a DEK by mistake).
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Mapping
from typing import Any

from tenant_security_proxy.events import names

ICL_FIELD_NAMES = ("requestingId", "dataLabel", "sourceIp", "objectId", "requestId")
# Bounds so that one caller cannot make every sink carry megabytes per event.
MAX_FIELD_CHARS = 1024
MAX_CUSTOM_FIELDS = 64

# KAJ-style justification codes (GCP Key Access Justifications), L-12. The proxy serves the
# vendor's application acting for the tenant, so the default is customer-initiated access.
REASON_CODES = frozenset(
    {
        "CUSTOMER_INITIATED_ACCESS",
        "CUSTOMER_INITIATED_SUPPORT",
        "MODIFIED_CUSTOMER_INITIATED_ACCESS",
        "THIRD_PARTY_DATA_REQUEST",
        "KEY_ROTATION",
        "CONFIG_VALIDATION",
        "REASON_NOT_EXPECTED",
    }
)
KMS_OPERATIONS = {
    names.KMS_WRAP: "Wrap",
    names.KMS_UNWRAP: "Unwrap",
    names.KMS_REKEY: "Rekey",
    names.KMS_DERIVE: "Derive",
    names.LEASED_KEY_CREATED: "CreateLeasedKey",
}

_SECRET_MARKERS = (
    "secret",
    "password",
    "passphrase",
    "token",
    "private",
    "credential",
    "api_key",
    "apikey",
    "plaintext",
    "ciphertext",
    "dek",
    "key_material",
    "sealed",
)
REDACTED = "[redacted]"


_prefix_second = -1
_prefix_text = ""


def rfc3339_ms(epoch_s: float | None = None) -> str:
    """RFC 3339 UTC with milliseconds, e.g. `2026-05-05T17:36:45.576Z` (IronCore's format).

    Runs once per delivered event: the second-resolution prefix is cached, not re-formatted.
    """
    global _prefix_second, _prefix_text
    epoch = time.time() if epoch_s is None else epoch_s
    second = int(epoch // 1)
    micros = round((epoch - second) * 1_000_000)  # as datetime.fromtimestamp rounds
    if micros >= 1_000_000:
        second, micros = second + 1, micros - 1_000_000
    if second != _prefix_second:
        moment = dt.datetime.fromtimestamp(second, dt.UTC)
        _prefix_second, _prefix_text = second, moment.strftime("%Y-%m-%dT%H:%M:%S.")
    return _prefix_text + _MILLIS[micros // 1000]


_MILLIS = [f"{ms:03d}Z" for ms in range(1000)]


_VARIANT = "89ab"


def event_ids(count: int) -> list[str]:
    """`count` random (version 4) UUIDs from one `os.urandom` call: a batch costs one syscall."""
    raw = os.urandom(16 * count).hex()
    ids = []
    for start in range(0, 32 * count, 32):
        h = raw[start : start + 32]
        ids.append(
            f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"
        )
    return ids


def epoch_seconds(timestamp: object) -> float:
    """Inverse of rfc3339_ms, tolerant: anything unparsable maps to now."""
    if isinstance(timestamp, str):
        try:
            return dt.datetime.fromisoformat(timestamp).timestamp()
        except ValueError:
            pass
    return time.time()


def _clip(value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    return text[:MAX_FIELD_CHARS]


def clean_icl_fields(icl_fields: Mapping[str, Any] | None) -> dict[str, str]:
    """Keep IronCore's known metadata fields; absent or null ones are omitted."""
    if not icl_fields:
        return {}
    return {k: _clip(icl_fields[k]) for k in ICL_FIELD_NAMES if icl_fields.get(k) is not None}


def clean_custom_fields(custom_fields: Mapping[str, Any] | None) -> dict[str, str]:
    """IronCore's customFields is a string→string map; coerce and bound it."""
    if not custom_fields:
        return {}
    items = list(custom_fields.items())[:MAX_CUSTOM_FIELDS]
    return {_clip(k): _clip(v) for k, v in items if v is not None}


# Verdicts per key name: events repeat the same few detail keys, so the marker scan runs once
# per name. Bounded, because keys inside free-form details could be caller-chosen.
_secret_key_cache: dict[str, bool] = {}
_SECRET_KEY_CACHE_MAX = 4096
_PLAIN = frozenset({str, int, float, bool, type(None)})


def is_secret_key(key: str) -> bool:
    """Whether a detail named `key` must be redacted (its name contains a secret marker)."""
    verdict = _secret_key_cache.get(key)
    if verdict is None:
        lowered = key.lower()
        verdict = any(marker in lowered for marker in _SECRET_MARKERS)
        if len(_secret_key_cache) < _SECRET_KEY_CACHE_MAX:
            _secret_key_cache[key] = verdict
    return verdict


def scrub(value: Any) -> Any:
    """Copy of `value` with secret-named entries and raw bytes replaced by `[redacted]`."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            key = k if type(k) is str else str(k)
            if is_secret_key(key):
                out[key] = REDACTED
            elif type(v) in _PLAIN:  # the common case: no recursion for scalars
                out[key] = v
            else:
                out[key] = scrub(v)
        return out
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    if isinstance(value, bytes | bytearray | memoryview):
        return REDACTED
    return value


def client_event(
    *,
    tenant_id: str,
    event: str,
    icl_fields: Mapping[str, Any] | None,
    custom_fields: Mapping[str, Any] | None,
    timestamp_millis: int | float | None = None,
) -> dict[str, Any]:
    """A client's security event; `event` must already be validated (validate_client_event)."""
    epoch = timestamp_millis / 1000 if isinstance(timestamp_millis, int | float) else None
    return {
        "event": event,
        "event_id": str(uuid.uuid4()),
        "tenant_id": tenant_id,
        "timestamp": rfc3339_ms(epoch),
        "source": "client",
        "icl_fields": clean_icl_fields(icl_fields),
        "custom_fields": clean_custom_fields(custom_fields),
        "details": {"received_at": rfc3339_ms()},
    }


def kms_event(
    *,
    tenant_id: str,
    event: str,
    config_id: int | None,
    provider: str | None,
    key_id: str | None,
    algorithm: str | None,
    result: str,
    latency_ms: float,
    icl_fields: Mapping[str, Any] | None = None,
    custom_fields: Mapping[str, Any] | None = None,
    encryption_context: Mapping[str, str] | None = None,
    reason_code: str = "CUSTOMER_INITIATED_ACCESS",
    error_code: int | None = None,
    leased_key_id: int | None = None,
    kms_called: bool = True,
) -> dict[str, Any]:
    """A proxy KMS event with CloudTrail/KAJ-like fields (ACCEPTANCE L-12).

    `key_id` is the key's location (ARN, resource name, vault URL/key name), never its material;
    `encryption_context` is the context/AAD that binds the tenant (DESIGN.md §6.3).
    """
    if event not in KMS_OPERATIONS:
        raise ValueError(f"not a KMS event name: {event}")
    if result not in ("success", "failure"):
        raise ValueError("result must be 'success' or 'failure'")
    if reason_code not in REASON_CODES:
        raise ValueError(f"unknown reason code: {reason_code}")
    icl = clean_icl_fields(icl_fields)
    details: dict[str, Any] = {
        "operation": KMS_OPERATIONS[event],
        "config_id": config_id,
        "provider": provider,
        "key_id": key_id,
        "algorithm": algorithm,
        "encryption_context": dict(encryption_context or {"tenant_id": tenant_id}),
        "caller_id": icl.get("requestingId"),
        "reason_code": reason_code,
        "result": result,
        "error_code": error_code,
        "latency_ms": round(float(latency_ms), 3),
        "leased_key_id": leased_key_id,
        "kms_called": kms_called,
    }
    return {
        "event": event,
        "event_id": str(uuid.uuid4()),
        "tenant_id": tenant_id,
        "timestamp": rfc3339_ms(),
        "source": "proxy",
        "icl_fields": icl,
        "custom_fields": clean_custom_fields(custom_fields),
        "details": scrub(details),
    }


def proxy_event(*, tenant_id: str, event: str, details: Mapping[str, Any]) -> dict[str, Any]:
    """Any other proxy-generated event (config loaded/rejected, events dropped, ...)."""
    if event not in names.PROXY_EVENTS:
        raise ValueError(f"not a proxy event name: {event}")
    return {
        "event": event,
        "event_id": str(uuid.uuid4()),
        "tenant_id": tenant_id,
        "timestamp": rfc3339_ms(),
        "source": "proxy",
        "icl_fields": {},
        "custom_fields": {},
        "details": scrub(details),
    }


def finalize(
    tenant_id: str, enqueued_at: float, event: Mapping[str, Any], event_id: str | None = None
) -> dict[str, Any]:
    """Enrich an emitted event before delivery (off the request path, in the delivery task).

    The request path emits raw facts only (no id, no timestamp text, no scrubbing); this adds
    the event id (`event_id`, or a fresh one), the timestamp of the moment it was emitted, and
    scrubs `details`. The queue's tenant id always wins, so an event can never be delivered as
    another tenant's.
    """
    out = dict(event)
    out["tenant_id"] = tenant_id
    out.setdefault("event", "UNKNOWN")
    if not out.get("event_id"):
        out["event_id"] = event_id or str(uuid.uuid4())
    if not out.get("timestamp"):
        out["timestamp"] = rfc3339_ms(enqueued_at)
    out.setdefault("source", "proxy")
    out["icl_fields"] = dict(out.get("icl_fields") or {})
    out["custom_fields"] = dict(out.get("custom_fields") or {})
    out["details"] = scrub(out.get("details") or {})
    return out
