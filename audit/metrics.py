"""Prometheus metrics of the audit app."""

from __future__ import annotations

from prometheus_client import Counter

AUDIT_WRITE_FAILURES = Counter(
    "opencmk_audit_write_failures_total",
    "Audit events that could not be written (the action they recorded was refused).",
)
CHECKPOINTS_PUBLISHED = Counter(
    "opencmk_audit_checkpoints_published_total",
    "Signed audit checkpoints published (database row and every WORM sink written).",
)
CHECKPOINT_FAILURES = Counter(
    "opencmk_audit_checkpoint_failures_total",
    "Audit checkpoints that could not be scheduled or published (conflicts included).",
)
