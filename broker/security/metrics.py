"""Prometheus counters of the violation-report endpoint (default registry, like audit.metrics)."""

from __future__ import annotations

from prometheus_client import Counter

# Labels come from a fixed vocabulary (csp_reports.DIRECTIVES), never from raw report text:
# the reports are attacker-controllable and must not grow the label set.
VIOLATIONS = Counter(
    "opencmk_browser_violation_reports_total",
    "CSP and Integrity-Policy violation reports received from browsers.",
    ["type", "directive", "disposition"],
)
REJECTED = Counter(
    "opencmk_browser_violation_requests_rejected_total",
    "Violation-report requests refused before any report was recorded.",
    ["reason"],
)
