"""The hash chain: canonical encoding of an event and the hash that links it to its predecessor.

``hash = SHA-256(bytes.fromhex(prev_hash) || canonical_bytes(event))``; the first event of a
chain has ``prev_hash = "0" * 64``. docs/audit.md specifies the encoding for outside verifiers.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

ENCODING_VERSION = 1
PLATFORM_CHAIN = "platform"


def chain_key(vendor_public_id: uuid.UUID | None, tenant_public_id: uuid.UUID | None) -> str:
    if vendor_public_id is None:
        if tenant_public_id is not None:
            raise ValueError("A tenant event needs its vendor.")
        return PLATFORM_CHAIN
    if tenant_public_id is None:
        return f"vendor:{vendor_public_id}"
    return f"vendor:{vendor_public_id}/tenant:{tenant_public_id}"


def rfc3339(moment: datetime) -> str:
    """UTC with exactly six fractional digits and a ``Z``: one spelling per instant."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _uuid_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def event_document(event: Any, chain: str) -> dict[str, Any]:
    """Every recorded field of an event, as the JSON object that is hashed and exported."""
    return {
        "v": ENCODING_VERSION,
        "chain": chain,
        "seq": event.seq,
        "event_id": str(event.event_id),
        "time": rfc3339(event.time),
        "action": event.action,
        "actor": {"kind": event.actor_kind, "id": event.actor_id, "label": event.actor_label},
        "vendor": _uuid_or_none(event.vendor_public_id),
        "tenant": _uuid_or_none(event.tenant_public_id),
        "tenant_ref": event.tenant_ref,
        "target": {"type": event.target_type, "id": event.target_id},
        "outcome": event.outcome,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "data": event.data,
        "vendor_visible": event.vendor_visible,
    }


def canonical_bytes(document: dict[str, Any]) -> bytes:
    # Sorted keys, no whitespace, ASCII only: the same bytes from any JSON library that sorts.
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def link_hash(prev_hash: str, document: dict[str, Any]) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical_bytes(document)).hexdigest()
