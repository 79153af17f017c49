"""Keyset pagination over a vendor's tenants, ordered by (name, public_id).

Why keyset and not OFFSET: page 200 of 10,000 tenants costs the same as page 1 — the database
seeks into the (vendor, name, public_id) index instead of reading and discarding 9,950 rows.
The total is counted over at most ``COUNT_CAP + 1`` rows, so the count stays cheap too
("1,000+ tenants"). Cursors are opaque base64url tokens; they hold a name and a UUID, never an
integer id (ACCEPTANCE Z-06).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from tenants.models import Tenant

COUNT_CAP = 1000


@dataclass(frozen=True)
class Cursor:
    name: str
    public_id: uuid.UUID

    def encode(self) -> str:
        raw = json.dumps([self.name, str(self.public_id)], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str | None) -> Cursor | None:
        """A malformed cursor is treated as "first page", never as an error."""
        if not token or len(token) > 800:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            name, public_id = json.loads(raw)
            return cls(str(name), uuid.UUID(str(public_id)))
        except (binascii.Error, ValueError, TypeError):
            return None

    @classmethod
    def of(cls, tenant: Tenant) -> Cursor:
        return cls(tenant.name, tenant.public_id)


@dataclass(frozen=True)
class TenantPage:
    items: Sequence[Tenant]
    next_cursor: str | None
    prev_cursor: str | None
    total: int
    total_capped: bool


def paginate(
    qs: QuerySet[Tenant], *, after: Cursor | None, before: Cursor | None, per_page: int
) -> TenantPage:
    if before is not None:
        window = qs.filter(
            Q(name__lt=before.name) | Q(name=before.name, public_id__lt=before.public_id)
        ).order_by("-name", "-public_id")
        rows = list(window[: per_page + 1])
        has_more_before = len(rows) > per_page
        items = list(reversed(rows[:per_page]))
        has_prev, has_next = has_more_before, True
    else:
        window = qs.order_by("name", "public_id")
        if after is not None:
            window = window.filter(
                Q(name__gt=after.name) | Q(name=after.name, public_id__gt=after.public_id)
            )
        rows = list(window[: per_page + 1])
        items = rows[:per_page]
        has_prev, has_next = after is not None, len(rows) > per_page
    total = qs.order_by()[: COUNT_CAP + 1].count()
    return TenantPage(
        items=items,
        next_cursor=Cursor.of(items[-1]).encode() if has_next and items else None,
        prev_cursor=Cursor.of(items[0]).encode() if has_prev and items else None,
        total=min(total, COUNT_CAP),
        total_capped=total > COUNT_CAP,
    )
