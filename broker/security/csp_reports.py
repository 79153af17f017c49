"""Receive CSP and Integrity-Policy violation reports: check, sanitise, log, count (H-03).

Two wire formats arrive at one endpoint: the Reporting API's ``application/reports+json`` (a
JSON list of ``{"type": "csp-violation" | "integrity-violation", "body": {...}}``) and the
legacy ``report-uri`` format ``application/csp-report`` (``{"csp-report": {...}}``).

A report is not an audit event: it changes no state, and anyone can send one with any content.
So it is written to the log as one JSON line and counted, nothing more. Every field it keeps is
reduced to what cannot carry a secret: the document as its URL route (no query string, no path
tokens), the blocked resource as an origin or a CSP keyword, a directive from a fixed list, and
at most 40 characters of sample.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.urls import Resolver404, resolve

from broker.security import metrics

logger = logging.getLogger(__name__)

REPORTS_JSON = "application/reports+json"
LEGACY_JSON = "application/csp-report"
MAX_BODY_BYTES = 64 * 1024
MAX_REPORTS = 100  # per request; browsers batch a handful
SAMPLE_CHARS = 40  # what browsers send at most (CSP3 §5.3)
_URL_CHARS = 2048

# Metric labels and log fields only ever take these values (or "other"): reports are
# attacker-controllable text.
DIRECTIVES = frozenset(
    [
        "default-src",
        "script-src",
        "script-src-elem",
        "script-src-attr",
        "style-src",
        "style-src-elem",
        "style-src-attr",
        "img-src",
        "font-src",
        "connect-src",
        "media-src",
        "object-src",
        "frame-src",
        "child-src",
        "worker-src",
        "manifest-src",
        "fenced-frame-src",
        "base-uri",
        "form-action",
        "frame-ancestors",
        "sandbox",
        "require-trusted-types-for",
        "trusted-types",
        "integrity-policy",
    ]
)
BLOCKED_KEYWORDS = frozenset(
    [
        "inline",
        "eval",
        "wasm-eval",
        "trusted-types-policy",
        "trusted-types-sink",
        "data",
        "blob",
        "self",
    ]
)
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]{0,31}")
_HOST = re.compile(r"[a-z0-9.-]{1,253}|[0-9a-f:.]{2,45}")


class ReportError(Exception):
    """A refused request: ``status`` is the HTTP answer, ``reason`` the metric label."""

    status = 400
    reason = "malformed"
    retry_after: int | None = None


class MalformedReportError(ReportError):
    """Not JSON, not UTF-8, or not shaped like either report format."""


class UnsupportedMediaTypeError(ReportError):
    """Neither ``application/reports+json`` nor ``application/csp-report``."""

    status, reason = 415, "media_type"


class PayloadTooLargeError(ReportError):
    """Body over ``MAX_BODY_BYTES``."""

    status, reason = 413, "too_large"


class RateLimitedError(ReportError):
    """Over ``OPENCMK_CSP_REPORTS_PER_MINUTE`` requests from one address in this minute."""

    status, reason = 429, "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__("rate limited")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Violation:
    """One sanitised report, as logged."""

    type: str
    document: str
    blocked: str
    directive: str
    disposition: str
    sample: str


def report_receive(
    *,
    ip: str | None,
    content_type: str,
    content_length: str | None,
    read: Callable[[int], bytes],
    request_id: str = "",
) -> list[Violation]:
    """Check one report request, then log and count each violation in it.

    Raises a ``ReportError`` (counted by reason) for anything refused; never anything else for
    any body a client can send.
    """
    try:
        report_rate_check(ip=ip)
        if content_type not in (REPORTS_JSON, LEGACY_JSON):
            raise UnsupportedMediaTypeError(content_type[:64])
        violations = reports_parse(
            content_type=content_type, body=_read_capped(content_length, read)
        )
    except ReportError as exc:
        metrics.REJECTED.labels(reason=exc.reason).inc()
        raise
    for violation in violations:
        violation_record(violation=violation, request_id=request_id)
    return violations


def report_rate_check(*, ip: str | None) -> None:
    """Fixed one-minute window per client address, in the shared cache (all workers)."""
    limit = settings.OPENCMK_CSP_REPORTS_PER_MINUTE
    now = int(time.time())
    key = f"csp-report:{ip or 'unknown'}:{now // 60}"
    cache.add(key, 0, 120)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, 120)
        count = 1
    if count > limit:
        raise RateLimitedError(retry_after=60 - now % 60)


def _read_capped(content_length: str | None, read: Callable[[int], bytes]) -> bytes:
    try:
        declared = int(content_length or 0)
    except ValueError as exc:
        raise MalformedReportError("bad Content-Length") from exc
    if declared > MAX_BODY_BYTES:
        raise PayloadTooLargeError(declared)
    try:
        body = read(MAX_BODY_BYTES + 1)
    except OSError as exc:  # the client went away mid-body
        raise MalformedReportError("unreadable body") from exc
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLargeError(len(body))
    return body


def reports_parse(*, content_type: str, body: bytes) -> list[Violation]:
    """The violations in a body of either format; report types other than ours are dropped."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedReportError("not JSON") from exc
    if content_type == LEGACY_JSON:
        if not isinstance(data, dict) or not isinstance(data.get("csp-report"), dict):
            raise MalformedReportError("no csp-report object")
        return [_from_legacy(data["csp-report"])]
    if not isinstance(data, list) or not 0 < len(data) <= MAX_REPORTS:
        raise MalformedReportError("not a list of reports")
    violations = []
    for report in data:
        if not isinstance(report, dict) or not isinstance(report.get("body"), dict):
            raise MalformedReportError("report without body")
        if report.get("type") == "csp-violation":
            violations.append(_from_csp(report["body"]))
        elif report.get("type") == "integrity-violation":
            violations.append(_from_integrity(report["body"]))
    return violations


def violation_record(*, violation: Violation, request_id: str = "") -> None:
    """One JSON log line (ASCII-escaped: no line breaks or control characters) and a count."""
    metrics.VIOLATIONS.labels(
        type=violation.type, directive=violation.directive, disposition=violation.disposition
    ).inc()
    fields = {"event": "browser.violation", **asdict(violation), "request_id": request_id[:64]}
    logger.warning("%s", json.dumps(fields, ensure_ascii=True, sort_keys=True))


def _from_csp(body: dict[str, Any]) -> Violation:
    return Violation(
        type="csp-violation",
        document=document_route(body.get("documentURL")),
        blocked=blocked_origin(body.get("blockedURL")),
        directive=_directive(body.get("effectiveDirective")),
        disposition=_disposition(body.get("disposition")),
        sample=_sample(body.get("sample")),
    )


def _from_legacy(body: dict[str, Any]) -> Violation:
    directive = body.get("effective-directive") or body.get("violated-directive")
    if isinstance(directive, str):
        directive = (directive.split() or [""])[0]  # CSP1 sent the whole directive
    return Violation(
        type="csp-violation",
        document=document_route(body.get("document-uri")),
        blocked=blocked_origin(body.get("blocked-uri")),
        directive=_directive(directive),
        disposition=_disposition(body.get("disposition")),
        sample=_sample(body.get("script-sample")),
    )


def _from_integrity(body: dict[str, Any]) -> Violation:
    report_only = body.get("reportOnly")
    return Violation(
        type="integrity-violation",
        document=document_route(body.get("documentURL")),
        blocked=blocked_origin(body.get("blockedURL")),
        directive="integrity-policy",
        disposition="report" if report_only is True else "enforce",
        sample="",
    )


def document_route(url: object) -> str:
    """The URL pattern the document's path matches (``/keys/vendors/<uuid:public_id>/``).

    Never the query string, and never path values: some paths carry tokens (invitations).
    """
    if not isinstance(url, str) or not url:
        return ""
    try:
        path = urlsplit(url[:_URL_CHARS]).path or "/"
        match = resolve(path)
    except (ValueError, Resolver404):
        return "(no route)"
    return "/" + _printable(match.route)[:200]


def blocked_origin(url: object) -> str:
    """A CSP keyword (``inline``, ``eval``…), a scheme (``data``), or an origin; never a path."""
    if not isinstance(url, str) or not url:
        return ""
    if url in BLOCKED_KEYWORDS:
        return url
    try:
        parts = urlsplit(url[:_URL_CHARS])
        port = parts.port
    except ValueError:
        return "(invalid)"
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    if not _SCHEME.fullmatch(scheme):
        return "(invalid)"
    if not host:
        return scheme  # data:, blob:, about: …
    if not _HOST.fullmatch(host):
        return "(invalid)"
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def _directive(value: object) -> str:
    if not isinstance(value, str) or not value:
        return "unknown"
    return value if value in DIRECTIVES else "other"


def _disposition(value: object) -> str:
    return str(value) if value in ("enforce", "report") else "unknown"


def _sample(value: object) -> str:
    return _printable(value[:SAMPLE_CHARS]) if isinstance(value, str) else ""


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in text)
