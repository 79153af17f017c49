"""Prometheus metrics of the audit app."""

from __future__ import annotations

from prometheus_client import Counter

AUDIT_WRITE_FAILURES = Counter(
    "opencmk_audit_write_failures_total",
    "Audit events that could not be written (the action they recorded was refused).",
)
