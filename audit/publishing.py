"""Published checkpoints (ACCEPTANCE L-06): signed, written once to every sink, kept in the DB.

When: Celery beat runs ``publish_checkpoints`` every ``OPENCMK_AUDIT_CHECKPOINT_SECONDS``, and
``record()`` schedules one chain's checkpoint each time it gets ``OPENCMK_AUDIT_CHECKPOINT_EVENTS``
events past its last published one (``schedule_if_due``: arithmetic on the head row it already
holds, no query). Only chains that advanced get a new checkpoint.

Order: the WORM sinks first, the database row last. A crash in between leaves a checkpoint in
WORM storage that the database lacks (harmless: it is a true signed statement, and the retry
finds the file and stores those very bytes); never the reverse. A sink that already holds a
different ``hash`` for the same (chain, seq) means the chain was rewritten or restored since:
``CheckpointConflictError``, logged and counted, nothing overwritten.

Publishing is deliberately not an audit event. It is no principal's action on an organisation,
and an event on the chain it attests would advance that chain, so every checkpoint would make
the next one due, forever. On the platform chain it would do the same to the platform chain
every interval. The record of a publication is the checkpoint itself: an append-only row
(triggers, migration 0004) plus the WORM copies, which ``verify_audit_chain`` checks.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from audit import metrics
from audit.checkpoint import CheckpointError, checkpoint_for, parse_checkpoint
from audit.models import AuditChainHead, AuditCheckpoint
from audit.services import AuditError
from audit.sinks import CheckpointSink, checkpoint_name, configured_sinks

logger = logging.getLogger(__name__)


class CheckpointPublishError(AuditError):
    """A checkpoint could not be published."""


class CheckpointConflictError(CheckpointPublishError):
    """A sink already holds a different checkpoint for this (chain, seq): history diverged."""


@dataclass(frozen=True, slots=True)
class PublishReport:
    published: int
    failed: int


def schedule_if_due(*, chain_pk: int, seq: int, published_seq: int) -> None:
    """Called by ``record()`` with the head it locked: every N events, one checkpoint task.

    Exactly one event in every N past the last publication schedules it (``behind % N == 0``),
    so a slow worker is not flooded. Enqueued after the commit; a failure to enqueue is logged
    and counted but never reaches the audited action (beat catches up within the interval).
    """
    behind = seq - published_seq
    if behind <= 0 or behind % settings.OPENCMK_AUDIT_CHECKPOINT_EVENTS:
        return
    transaction.on_commit(lambda: _enqueue(chain_pk))


def _enqueue(chain_pk: int) -> None:
    from audit.tasks import publish_chain_checkpoint

    try:
        publish_chain_checkpoint.delay(chain_pk=chain_pk)
    except Exception as exc:  # the audited action already committed
        metrics.CHECKPOINT_FAILURES.inc()
        logger.error(
            "audit checkpoint for chain %s not scheduled: %s", chain_pk, type(exc).__name__
        )


def checkpoint_publish(*, chain_pk: int) -> AuditCheckpoint | None:
    """Publish a checkpoint of one chain's head unless its newest one already covers it."""
    head = AuditChainHead.objects.get(pk=chain_pk)  # one row: a committed (seq, hash) pair
    last = head.checkpoints.order_by("-seq").values_list("seq", flat=True).first() or 0
    if head.seq <= last:
        _mark_published(head.pk, last)
        return None
    body = (json.dumps(checkpoint_for(head), indent=2) + "\n").encode()
    name = checkpoint_name(head.key, head.seq)
    for sink in configured_sinks():
        body = _put(sink, name, body, head)
    doc = parse_checkpoint(body)
    try:
        with transaction.atomic():
            stored = AuditCheckpoint.objects.create(
                chain=head,
                seq=head.seq,
                hash=head.hash,
                issued_at=datetime.strptime(doc["issued_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                    tzinfo=UTC
                ),
                body=body.decode(),
            )
            _mark_published(head.pk, head.seq)
    except IntegrityError:
        return None  # a concurrent publisher stored this seq (from the same sink bytes)
    return stored


def _put(sink: CheckpointSink, name: str, body: bytes, head: AuditChainHead) -> bytes:
    stored = sink.put(name=name, body=body)
    if stored == body:
        return body
    try:
        doc = parse_checkpoint(stored)
    except CheckpointError as exc:
        raise CheckpointConflictError(f"{sink!r} holds an invalid checkpoint at {name}.") from exc
    if (doc["chain"], doc["seq"], doc["hash"]) != (head.key, head.seq, head.hash):
        raise CheckpointConflictError(
            f"{sink!r} holds another hash for {head.key} seq {head.seq}: the chain diverged."
        )
    return stored  # an earlier attempt's copy of the same (chain, seq, hash): publish that one


def _mark_published(chain_pk: int, seq: int) -> None:
    AuditChainHead.objects.filter(pk=chain_pk, published_seq__lt=seq).update(published_seq=seq)


def checkpoints_publish_due() -> PublishReport:
    """One checkpoint for every chain that advanced since its last one (the beat task)."""
    due = AuditChainHead.objects.filter(seq__gt=F("published_seq")).order_by("pk")
    published = failed = 0
    for chain_pk in due.values_list("pk", flat=True).iterator(chunk_size=500):
        outcome = checkpoint_publish_logged(chain_pk=chain_pk)
        published += outcome is True
        failed += outcome is False
    return PublishReport(published, failed)


def checkpoint_publish_logged(*, chain_pk: int) -> bool | None:
    """``checkpoint_publish`` for tasks: True published, None nothing due, False failed (logged).

    One chain's failure (a conflict, a full disk) must not stop the others, nor retry forever.
    """
    try:
        published = checkpoint_publish(chain_pk=chain_pk) is not None
    except (CheckpointPublishError, OSError) as exc:
        reason = str(exc)
    except Exception as exc:  # logged by type only: the text may quote SQL
        reason = type(exc).__name__
    else:
        if published:
            metrics.CHECKPOINTS_PUBLISHED.inc()
        return published or None
    metrics.CHECKPOINT_FAILURES.inc()
    logger.error("audit checkpoint of chain %s failed: %s", chain_pk, reason)
    return False
