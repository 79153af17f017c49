"""Permission rows for the audit pages: members read, verify and download checkpoints; only
admins export and subscribe to notifications (docs/audit.md)."""

from __future__ import annotations

from typing import Any

from tests.permissions.matrix import TENANT, VENDOR, Row


def _org(kind: str) -> Any:
    return lambda w: {"org": getattr(w, kind).public_id}


def _export(kind: str, fmt: str) -> Any:
    return lambda w: {"org": getattr(w, kind).public_id, "fmt": fmt}


ROWS: list[Row] = []
for kind, org in (("tenant", TENANT), ("vendor", VENDOR)):
    ROWS += [
        Row(f"audit:{kind}", org=org, kwargs=_org(kind)),
        Row(f"audit:{kind}_export", org=org, kwargs=_export(kind, "jsonl"), viewer=False),
        Row(f"audit:{kind}_export", org=org, kwargs=_export(kind, "csv"), viewer=False),
        Row(f"audit:{kind}_checkpoint", org=org, kwargs=_org(kind)),
        # An empty upload is refused by the form: a redirect back with a message.
        Row(f"audit:{kind}_checkpoint_verify", org=org, kwargs=_org(kind), method="POST"),
        Row(
            f"audit:{kind}_notifications",
            org=org,
            kwargs=_org(kind),
            method="POST",
            viewer=False,
            data=lambda w: {"enabled": "1"},
        ),
    ]
