"""Verify hash chains: every link recomputed, no gap, the head (and any checkpoint) matched.

Reports the first bad ``seq`` of each chain. An edited row fails its own hash; a deleted row
leaves a gap; swapped rows break the ``prev_hash`` link; a truncated tail no longer reaches the
chain head or a checkpoint taken earlier (only a checkpoint kept outside the database survives an
attacker who also rewrites the head row — docs/audit.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from audit.chain import event_document, link_hash
from audit.models import GENESIS_HASH, AuditChainHead, AuditEvent


@dataclass(frozen=True, slots=True)
class ChainReport:
    chain: str
    events: int
    last_seq: int
    last_hash: str
    first_bad_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


@dataclass(frozen=True, slots=True)
class Anchor:
    """A (seq, hash) the chain must still contain: a checkpoint or the chain head."""

    seq: int
    hash: str
    source: str


def _links(events: Iterable[AuditEvent], chain: str) -> Iterator[tuple[int, str, str | None]]:
    """Walk the chain; yield (seq, hash, problem) — problem set at the first bad event."""
    expected, prev = 1, GENESIS_HASH
    for event in events:
        if event.seq != expected:
            yield expected, prev, f"event {expected} is missing (found {event.seq} next)"
            return
        if event.prev_hash != prev:
            yield event.seq, prev, "does not link to the previous event (reordered or replaced)"
            return
        computed = link_hash(prev, event_document(event, chain))
        if computed != event.hash:
            yield event.seq, prev, "content does not match its hash (edited)"
            return
        yield event.seq, computed, None
        expected, prev = expected + 1, computed


def verify_chain(head: AuditChainHead, anchors: Iterable[Anchor] = ()) -> ChainReport:
    events = head.events.order_by("seq").iterator(chunk_size=2000)
    # Several anchors may name one seq (the stored and the WORM copy of a checkpoint): each
    # is checked, so a disagreement between them cannot hide behind the other.
    wanted: dict[int, list[Anchor]] = {}
    for anchor in (*anchors, Anchor(head.seq, head.hash, "chain head")):
        wanted.setdefault(anchor.seq, []).append(anchor)
    last_seq, last_hash, count = 0, GENESIS_HASH, 0
    for seq, digest, problem in _links(events, head.key):
        if problem is not None:
            return ChainReport(head.key, count, last_seq, last_hash, seq, problem)
        for anchor in wanted.get(seq, ()):
            if anchor.hash != digest:
                return ChainReport(
                    head.key, count, last_seq, last_hash, seq, f"differs from {anchor.source}"
                )
        last_seq, last_hash, count = seq, digest, count + 1
    beyond = [a for group in wanted.values() for a in group if a.seq > last_seq]
    if beyond:
        anchor = min(beyond, key=lambda a: a.seq)
        reason = f"chain ends at {last_seq} but the {anchor.source} is at {anchor.seq} (truncated)"
        return ChainReport(head.key, count, last_seq, last_hash, last_seq + 1, reason)
    return ChainReport(head.key, count, last_seq, last_hash)


def chains(*, vendor_public_id: Any = None, tenant_public_id: Any = None) -> list[AuditChainHead]:
    heads = AuditChainHead.objects.order_by("key")
    if tenant_public_id is not None:
        heads = heads.filter(tenant_public_id=tenant_public_id)
    if vendor_public_id is not None:
        heads = heads.filter(vendor_public_id=vendor_public_id)
    return list(heads)


def verify_documents(lines: Iterable[dict[str, Any]]) -> tuple[int, str | None]:
    """Check an export (JSON Lines documents): each line's hash, and links between neighbours.

    Returns (lines checked, first problem or None). Filtered exports skip events; a link is
    checked only where two lines of the same chain have consecutive ``seq``.
    """
    last: dict[str, tuple[int, str]] = {}
    count = 0
    for line in lines:
        doc = {k: v for k, v in line.items() if k not in {"hash", "prev_hash"}}
        chain, seq = doc["chain"], doc["seq"]
        if link_hash(line["prev_hash"], doc) != line["hash"]:
            return count, f"{chain} seq {seq}: content does not match its hash"
        before = last.get(chain)
        if before is not None and before[0] + 1 == seq and before[1] != line["prev_hash"]:
            return count, f"{chain} seq {seq}: does not link to seq {before[0]}"
        last[chain] = (seq, line["hash"])
        count += 1
    return count, None
