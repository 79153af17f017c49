"""Every audit write. ``record()`` is the one way an event enters the log (notes/audit_api.md)."""

from __future__ import annotations

import ipaddress
import logging
import re
import uuid
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit import chain as chain_mod
from audit import context, metrics
from audit.actors import Actor, ActorKind
from audit.models import AuditChainHead, AuditEvent, Outcome
from audit.redaction import clean_text, normalise_data
from audit.visibility import is_vendor_visible

logger = logging.getLogger(__name__)

_ACTION_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class AuditError(Exception):
    """Root of the audit app's errors."""


class AuditWriteError(AuditError):
    """An audit event could not be recorded; the caller's change must not happen."""


def _target(target: object | str | None) -> tuple[str, str]:
    if target is None:
        return "", ""
    if isinstance(target, str):
        return "", clean_text(target, 200)
    meta = getattr(target, "_meta", None)
    kind = meta.label_lower if meta is not None else type(target).__name__.lower()
    ident = getattr(target, "public_id", None)
    if ident is None:
        ident = getattr(target, "pk", None)
    return kind[:64], clean_text(str(ident), 200) if ident is not None else ""


def _ip(raw: str | None) -> str:
    if not raw:
        return ""
    try:
        return ipaddress.ip_address(raw).compressed
    except ValueError:
        return ""


def _locked_head(
    key: str, vendor_id: uuid.UUID | None, tenant_id: uuid.UUID | None
) -> AuditChainHead:
    """The chain head, row-locked until the caller's transaction ends (serialises each chain)."""
    heads = AuditChainHead.objects.select_for_update()
    head = heads.filter(key=key).first()
    if head is None:
        # Concurrent first writers: one insert wins, the others wait for it and then lock it.
        AuditChainHead.objects.bulk_create(
            [AuditChainHead(key=key, vendor_public_id=vendor_id, tenant_public_id=tenant_id)],
            ignore_conflicts=True,
        )
        head = heads.get(key=key)
    return head


def record(
    *,
    action: str,
    actor: Actor,
    vendor: Any | None,
    tenant: Any | None = None,
    target: object | str | None = None,
    outcome: str = Outcome.SUCCESS,
    data: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to its organisation's chain, inside the caller's transaction.

    Raises (and so rolls the caller back) if the event cannot be written: fail closed (L-02).
    """
    if not _ACTION_RE.match(action) or len(action) > 100:
        raise AuditWriteError(f"Audit action must be dotted lowercase words: {action!r}.")
    if outcome not in Outcome.values:
        raise AuditWriteError(f"Unknown audit outcome {outcome!r}.")
    if tenant is not None:
        if vendor is None:
            vendor = tenant.vendor
        elif tenant.vendor_id != vendor.pk:
            raise AuditWriteError("The tenant does not belong to that vendor.")
    vendor_id = vendor.public_id if vendor is not None else None
    tenant_id = tenant.public_id if tenant is not None else None
    key = chain_mod.chain_key(vendor_id, tenant_id)
    try:
        event = _append(key, vendor_id, tenant_id, tenant, actor, action, outcome, target, data)
    except AuditWriteError:
        raise
    except Exception as exc:
        # Never log the event itself: its data may be what the caller failed to protect.
        metrics.AUDIT_WRITE_FAILURES.inc()
        logger.error("audit write failed for action %s: %s", action, type(exc).__name__)
        raise AuditWriteError(f"Could not record audit event {action!r}.") from exc
    _after_commit(event)
    return event


def _append(
    key: str,
    vendor_id: uuid.UUID | None,
    tenant_id: uuid.UUID | None,
    tenant: Any,
    actor: Actor,
    action: str,
    outcome: str,
    target: object | str | None,
    data: Mapping[str, Any] | None,
) -> AuditEvent:
    ctx = context.current()
    target_type, target_id = _target(target)
    with transaction.atomic():
        head = _locked_head(key, vendor_id, tenant_id)
        event = AuditEvent(
            event_id=uuid.uuid4(),
            chain=head,
            seq=head.seq + 1,
            time=timezone.now(),
            action=action,
            actor_kind=ActorKind(actor.kind),
            actor_id=clean_text(actor.id, 100),
            actor_label=clean_text(actor.label, 254),
            vendor_public_id=vendor_id,
            tenant_public_id=tenant_id,
            tenant_ref=clean_text(getattr(tenant, "tenant_id", "") or "", 128),
            target_type=target_type,
            target_id=target_id,
            outcome=outcome,
            ip=_ip(ctx.ip),
            user_agent=clean_text(ctx.user_agent, 512),
            request_id=clean_text(ctx.request_id, 64),
            data=normalise_data(data),
            vendor_visible=is_vendor_visible(
                action=action, actor_kind=actor.kind, has_tenant=tenant is not None, target=target
            ),
            prev_hash=head.hash,
        )
        event.hash = chain_mod.link_hash(head.hash, chain_mod.event_document(event, key))
        _insert(event)
        AuditChainHead.objects.filter(pk=head.pk).update(seq=event.seq, hash=event.hash)
    return event


def _insert(event: AuditEvent) -> None:
    # One seam, so tests can make the audit write fail and watch the caller roll back (L-02).
    event.save(force_insert=True)


def _after_commit(event: AuditEvent) -> None:
    from audit.notifications import schedule_notification
    from audit.publishing import schedule_if_due

    schedule_notification(event)
    # event.chain is the head row read under the lock: its published_seq costs no query.
    schedule_if_due(chain_pk=event.chain_id, seq=event.seq, published_seq=event.chain.published_seq)


def record_view(
    request: Any,
    *,
    action: str,
    vendor: Any | None,
    tenant: Any | None = None,
    target: object | str | None = None,
    data: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Record that the requesting user looked at something (tenant configuration, audit pages)."""
    return record(
        action=action,
        actor=Actor.from_request(request),
        vendor=vendor,
        tenant=tenant,
        target=target,
        data=data,
    )


@transaction.atomic
def notification_set(
    *, actor: Actor, user: Any, vendor: Any, tenant: Any | None, enabled: bool
) -> bool:
    """Opt a user in or out of security e-mails for one organisation; True if anything changed."""
    from audit.models import NotificationSubscription

    scope = {
        "user": user,
        "vendor_public_id": vendor.public_id,
        "tenant_public_id": tenant.public_id if tenant is not None else None,
    }
    if enabled:
        changed = NotificationSubscription.objects.get_or_create(**scope)[1]
    else:
        changed = NotificationSubscription.objects.filter(**scope).delete()[0] > 0
    if changed:
        verb = "enabled" if enabled else "disabled"
        record(
            action=f"audit.notifications_{verb}",
            actor=actor,
            vendor=vendor,
            tenant=tenant,
            target=user,
        )
    return changed
