"""Streamed exports: JSON Lines (verifiable, one event per line) and CSV (for spreadsheets).

Both are injection-safe (ACCEPTANCE L-09): JSON escapes every control character and, with
``ensure_ascii``, every non-ASCII one, so CR, LF, ANSI escapes or U+2028 in a user-controlled
field can never start a new line; CSV cells have control characters escaped as ``\\xNN`` and
formula-leading characters neutralised.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from audit.chain import event_document
from audit.models import AuditEvent

CHUNK_SIZE = 2000
CSV_COLUMNS = [
    "chain",
    "seq",
    "event_id",
    "time",
    "action",
    "actor_kind",
    "actor_id",
    "actor_label",
    "vendor",
    "tenant",
    "tenant_ref",
    "target_type",
    "target_id",
    "outcome",
    "ip",
    "user_agent",
    "request_id",
    "data",
    "vendor_visible",
    "prev_hash",
    "hash",
]
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\\]")
_FORMULA_START = ("=", "+", "-", "@")


def export_document(event: AuditEvent) -> dict[str, Any]:
    """The hashed document plus its links: what ``verify_audit_chain --export`` checks."""
    doc = event_document(event, event.chain.key)
    doc["prev_hash"] = event.prev_hash
    doc["hash"] = event.hash
    return doc


def _rows(events: Iterable[AuditEvent]) -> Iterator[AuditEvent]:
    # select_related: the chain key is needed per row; iterator keeps memory flat.
    qs: Any = events
    if hasattr(qs, "select_related"):
        qs = qs.select_related("chain").iterator(chunk_size=CHUNK_SIZE)
    yield from qs


def jsonl_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    for event in _rows(events):
        doc = export_document(event)
        yield json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n"


def _escape_control(match: re.Match[str]) -> str:
    char = match.group()
    return (
        "\\\\"
        if char == "\\"
        else f"\\x{ord(char):02x}"
        if ord(char) < 256
        else f"\\u{ord(char):04x}"
    )


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    text = _CONTROL_RE.sub(_escape_control, str(value))
    # Spreadsheets run cells starting with these as formulas (CSV injection).
    return "'" + text if text.startswith(_FORMULA_START) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_values(doc: dict[str, Any]) -> list[str]:
    flat = {
        **doc,
        "actor_kind": doc["actor"]["kind"],
        "actor_id": doc["actor"]["id"],
        "actor_label": doc["actor"]["label"],
        "target_type": doc["target"]["type"],
        "target_id": doc["target"]["id"],
    }
    return [csv_cell(flat[column]) for column in CSV_COLUMNS]


def csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo(), lineterminator="\n")
    yield writer.writerow(CSV_COLUMNS)
    for event in _rows(events):
        yield writer.writerow(_csv_values(export_document(event)))
