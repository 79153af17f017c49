"""Every read of the audit log, scoped to one organisation first.

A tenant reads its own chain, paginated by ``seq`` (index ``audit_event_chain_seq``). A vendor
reads every vendor-visible event carrying its id — its own chain and the provisioning side of its
tenants' chains — newest first by (time, event_id) (index ``audit_vendor_visible``). Both are
keyset pagination: page 10,000 costs what page 1 costs.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet

from audit.chain import chain_key
from audit.models import AuditChainHead, AuditCheckpoint, AuditEvent, NotificationSubscription
from vendors.models import Role

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    actor_kind: str = ""
    action_prefix: str = ""
    since: date | None = None
    until: date | None = None
    outcome: str = ""

    def apply(self, qs: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        if self.actor_kind:
            qs = qs.filter(actor_kind=self.actor_kind)
        if self.action_prefix:
            qs = qs.filter(action__startswith=self.action_prefix)
        if self.since:
            qs = qs.filter(time__gte=datetime.combine(self.since, time.min, tzinfo=UTC))
        if self.until:
            end = datetime.combine(self.until + timedelta(days=1), time.min, tzinfo=UTC)
            qs = qs.filter(time__lt=end)
        if self.outcome:
            qs = qs.filter(outcome=self.outcome)
        return qs

    def as_data(self) -> dict[str, str]:
        """For the audit record of an export: which slice was taken."""
        return {k: str(v) for k, v in self.__dict__.items() if v}


@dataclass(frozen=True)
class AuditPage:
    events: Sequence[AuditEvent]
    next_cursor: str | None


def tenant_chain_head(*, tenant: Any) -> AuditChainHead | None:
    return AuditChainHead.objects.filter(
        key=chain_key(tenant.vendor.public_id, tenant.public_id)
    ).first()


def vendor_chain_head(*, vendor: Any) -> AuditChainHead | None:
    return AuditChainHead.objects.filter(key=chain_key(vendor.public_id, None)).first()


def tenant_events(*, tenant: Any, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """Every event of the tenant's chain, newest first."""
    head = tenant_chain_head(tenant=tenant)
    qs = AuditEvent.objects.filter(chain=head) if head else AuditEvent.objects.none()
    return filters.apply(qs).select_related("chain").order_by("-seq")


def vendor_events(*, vendor: Any, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """The vendor's own events and the vendor-visible part of its tenants' (audit.visibility)."""
    qs = AuditEvent.objects.filter(vendor_public_id=vendor.public_id, vendor_visible=True)
    return filters.apply(qs).select_related("chain").order_by("-time", "-event_id")


def _encode(parts: list[Any]) -> str:
    raw = json.dumps(parts, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str | None) -> list[Any] | None:
    if not token or len(token) > 200:
        return None
    try:
        parts = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        return None
    return parts if isinstance(parts, list) else None


def tenant_page(
    *, events: QuerySet[AuditEvent], cursor: str | None, size: int = PAGE_SIZE
) -> AuditPage:
    parts = _decode(cursor)
    if parts and isinstance(parts[0], int):
        events = events.filter(seq__lt=parts[0])
    rows = list(events[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return AuditPage(rows, _encode([rows[-1].seq]) if more else None)


def vendor_page(
    *, events: QuerySet[AuditEvent], cursor: str | None, size: int = PAGE_SIZE
) -> AuditPage:
    parts = _decode(cursor)
    if parts and len(parts) == 2:
        try:
            moment, event_id = datetime.fromisoformat(parts[0]), uuid.UUID(str(parts[1]))
        except (TypeError, ValueError):
            moment = None
        if moment is not None:
            # ``time <= moment`` is what the index can seek to; the OR only tie-breaks there.
            events = events.filter(time__lte=moment).filter(
                Q(time__lt=moment) | Q(time=moment, event_id__lt=event_id)
            )
    rows = list(events[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    last = rows[-1] if rows else None
    nxt = _encode([last.time.isoformat(), str(last.event_id)]) if more and last else None
    return AuditPage(rows, nxt)


def chain_checkpoints(*, chain: str) -> QuerySet[AuditCheckpoint]:
    """Published checkpoints of one chain (by key), oldest first (index on (chain, seq))."""
    return AuditCheckpoint.objects.filter(chain__key=chain).order_by("seq")


def tenant_checkpoints(*, tenant: Any) -> QuerySet[AuditCheckpoint]:
    return chain_checkpoints(chain=chain_key(tenant.vendor.public_id, tenant.public_id))


def latest_checkpoint(*, chain: str) -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.filter(chain__key=chain).order_by("-seq").first()


def notification_enabled(*, user: Any, vendor: Any, tenant: Any | None) -> bool:
    return NotificationSubscription.objects.filter(
        user=user,
        vendor_public_id=vendor.public_id,
        tenant_public_id=tenant.public_id if tenant is not None else None,
    ).exists()


def notification_recipients(*, event: AuditEvent) -> list[str]:
    """Addresses of the opted-in users who are admins of the event's organisation right now."""
    if event.vendor_public_id is None:
        return []
    subs = NotificationSubscription.objects.filter(
        vendor_public_id=event.vendor_public_id, tenant_public_id=event.tenant_public_id
    )
    if event.tenant_public_id is not None:
        subs = subs.filter(
            user__tenant_memberships__tenant__public_id=event.tenant_public_id,
            user__tenant_memberships__role=Role.ADMIN,
        )
    else:
        subs = subs.filter(
            user__vendor_memberships__vendor__public_id=event.vendor_public_id,
            user__vendor_memberships__role=Role.ADMIN,
        )
    emails: Any = subs.filter(user__is_active=True).values_list("user__email", flat=True)
    return sorted(set(emails))
