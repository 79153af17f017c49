"""The violation-report endpoint: both wire formats, every refusal, sanitised log lines (H-03)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from broker.security import csp_reports, metrics

pytestmark = pytest.mark.django_db

URL = "/security/csp-report/"
LOGGER = "broker.security.csp_reports"
TOKEN = "tok_secret_in_the_query"

CSP_REPORT: dict[str, Any] = {
    "type": "csp-violation",
    "age": 3,
    "url": f"https://broker.example/keys/?token={TOKEN}",
    "user_agent": "Chromium",
    "body": {
        "documentURL": f"https://broker.example/keys/?token={TOKEN}#frag",
        "referrer": f"https://broker.example/?token={TOKEN}",
        "blockedURL": f"https://evil.example:8443/x.js?k={TOKEN}",
        "effectiveDirective": "script-src-elem",
        "originalPolicy": "default-src 'none'; report-to csp",
        "sourceFile": "https://broker.example/static/js/x.mjs",
        "sample": "A" * 39 + "\n" + "B" * 100,
        "disposition": "enforce",
        "statusCode": 200,
        "lineNumber": 4,
        "columnNumber": 2,
    },
}
LEGACY_REPORT = {
    "csp-report": {
        "document-uri": f"https://broker.example/kms/?q={TOKEN}",
        "referrer": "",
        "violated-directive": "script-src 'self'",
        "original-policy": "default-src 'none'",
        "blocked-uri": "inline",
        "disposition": "report",
        "script-sample": "alert(1)",
    }
}
INTEGRITY_REPORT = {
    "type": "integrity-violation",
    "url": "https://broker.example/keys/",
    "body": {
        "documentURL": "https://broker.example/keys/",
        "blockedURL": "https://broker.example/static/js/x.mjs",
        "destination": "script",
        "reportOnly": False,
    },
}


def _post(client: Client, body: Any, content_type: str, **extra: Any) -> Any:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    # The test client leaves out Content-Type for an empty body; browsers do not.
    extra.setdefault("CONTENT_TYPE", content_type)
    return client.post(URL, data=data, content_type=content_type, **extra)


def _logged(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == LOGGER]


@pytest.fixture(autouse=True)
def _capture(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)


def _violations(**labels: str) -> float:
    return metrics.VIOLATIONS.labels(**labels)._value.get()


def _rejected(reason: str) -> float:
    return metrics.REJECTED.labels(reason=reason)._value.get()


def test_a_reporting_api_batch_is_logged_sanitised_and_counted(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    labels = {"type": "csp-violation", "directive": "script-src-elem", "disposition": "enforce"}
    before = _violations(**labels)
    events_before = AuditEvent.objects.count()
    other = {"type": "deprecation", "body": {"id": "x", "message": TOKEN}}

    response = _post(client, [CSP_REPORT, other, INTEGRITY_REPORT], "application/reports+json")

    assert response.status_code == 204
    csp, integrity = _logged(caplog)  # the deprecation report is not ours: dropped
    assert csp == {
        "event": "browser.violation",
        "type": "csp-violation",
        "document": "/keys/",
        "blocked": "https://evil.example:8443",
        "directive": "script-src-elem",
        "disposition": "enforce",
        "sample": "A" * 39 + "\ufffd",
        "request_id": response["X-Request-Id"],
    }
    assert integrity["type"] == "integrity-violation"
    assert integrity["blocked"] == "https://broker.example"
    assert (integrity["directive"], integrity["disposition"]) == ("integrity-policy", "enforce")
    assert _violations(**labels) == before + 1
    # Secrets in queries never reach the log; the line is one line.
    lines = [r.getMessage() for r in caplog.records]
    assert not any(TOKEN in line or "\n" in line for line in lines)
    # Not an audit event: nothing changed, and anybody can send this.
    assert AuditEvent.objects.count() == events_before


def test_a_legacy_report_uri_report_is_logged_too(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    response = _post(client, LEGACY_REPORT, "application/csp-report; charset=utf-8")

    assert response.status_code == 204
    (logged,) = _logged(caplog)
    assert logged["directive"] == "script-src"  # the first word of CSP1's violated-directive
    assert logged["blocked"] == "inline" and logged["disposition"] == "report"
    assert logged["document"] == "(no route)"  # /kms/ alone is no page of ours
    assert logged["sample"] == "alert(1)"


def test_a_path_token_is_logged_as_the_route_pattern(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    accept = reverse("accounts:invitation_accept", kwargs={"token": TOKEN})
    report = {**CSP_REPORT, "body": {**CSP_REPORT["body"], "documentURL": "https://b" + accept}}

    assert _post(client, [report], "application/reports+json").status_code == 204

    (logged,) = _logged(caplog)
    assert TOKEN not in logged["document"] and "<" in logged["document"]


def test_no_login_no_csrf_token_needed(caplog: pytest.LogCaptureFixture) -> None:
    client = Client(enforce_csrf_checks=True)
    assert _post(client, LEGACY_REPORT, "application/csp-report").status_code == 204


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "text/plain", "application/x-www-form-urlencoded", ""],
)
def test_other_media_types_get_415(
    client: Client, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    before = _rejected("media_type")
    response = _post(client, [CSP_REPORT], content_type)
    assert response.status_code == 415
    assert _rejected("media_type") == before + 1
    assert _logged(caplog) == []


def test_a_body_over_64_kib_gets_413(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    padding = "x" * (csp_reports.MAX_BODY_BYTES)
    big = [{**CSP_REPORT, "body": {**CSP_REPORT["body"], "sample": padding}}]
    assert _post(client, big, "application/reports+json").status_code == 413
    # A Content-Length beyond the cap is refused before the body is read.
    declared = _post(client, b"[]", "application/reports+json", CONTENT_LENGTH="10000000")
    assert declared.status_code == 413
    assert _logged(caplog) == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("not json", "application/reports+json"),
        (b"\xff\xfe[]", "application/reports+json"),
        ("", "application/csp-report"),
        ("[]", "application/reports+json"),
        ('{"type": "csp-violation"}', "application/reports+json"),
        ('[{"type": "csp-violation"}]', "application/reports+json"),
        ('[{"type": "csp-violation", "body": "text"}]', "application/reports+json"),
        ("[1, 2]", "application/reports+json"),
        (json.dumps([{"type": "csp-violation", "body": {}}] * 101), "application/reports+json"),
        ('{"csp-report": []}', "application/csp-report"),
        ("[]", "application/csp-report"),
        ("[" * 30_000 + "]" * 30_000, "application/reports+json"),
        ('{"csp-report": {"line-number": ' + "9" * 5000 + "}}", "application/csp-report"),
    ],
    ids=[
        "not-json",
        "not-utf8",
        "empty",
        "empty-list",
        "object-not-list",
        "no-body",
        "body-not-object",
        "not-objects",
        "too-many-reports",
        "legacy-not-object",
        "legacy-list",
        "deep-nesting",
        "huge-integer",
    ],
)
def test_malformed_bodies_get_400_never_500(
    client: Client, body: Any, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    before = _rejected("malformed")
    assert _post(client, body, content_type).status_code == 400
    assert _rejected("malformed") == before + 1
    assert _logged(caplog) == []


def test_odd_but_wellformed_fields_are_reduced_not_refused(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    body = {
        "documentURL": 17,
        "blockedURL": "http://[::1]:9/x",
        "effectiveDirective": "script-src\nEVIL",
        "disposition": ["enforce"],
        "sample": {"nested": True},
    }
    weird = [{"type": "csp-violation", "body": body}]
    assert _post(client, weird, "application/reports+json").status_code == 204
    (logged,) = _logged(caplog)
    assert logged["document"] == "" and logged["blocked"] == "http://[::1]:9"
    assert logged["directive"] == "other" and logged["disposition"] == "unknown"
    assert logged["sample"] == ""


def test_each_address_gets_a_budget_per_minute(client: Client, settings: Any) -> None:
    settings.OPENCMK_CSP_REPORTS_PER_MINUTE = 3
    before = _rejected("rate_limited")
    answers = [_post(client, LEGACY_REPORT, "application/csp-report").status_code for _ in range(4)]
    refused = _post(client, LEGACY_REPORT, "application/csp-report")
    other_address = _post(client, LEGACY_REPORT, "application/csp-report", REMOTE_ADDR="192.0.2.7")

    assert answers == [204, 204, 204, 429]
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60
    assert other_address.status_code == 204
    assert _rejected("rate_limited") == before + 2


def test_get_is_not_allowed(client: Client) -> None:
    assert client.get(URL).status_code == 405


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("inline", "inline"),
        ("eval", "eval"),
        ("wasm-eval", "wasm-eval"),
        ("trusted-types-sink", "trusted-types-sink"),
        ("data:text/javascript,alert(1)", "data"),
        ("blob:https://broker.example/0b6c", "blob"),
        ("https://user:pw@cdn.example/path/x.js?t=1#f", "https://cdn.example"),
        ("HTTPS://CDN.Example:443/x", "https://cdn.example:443"),
        ("http://[::1", "(invalid)"),
        ("https://bad host/", "(invalid)"),
        ("javascript\n:alert(1)", "javascript"),
        ("1http://x/", "(invalid)"),
        ("", ""),
        (None, ""),
    ],
)
def test_blocked_resources_are_reduced_to_an_origin_or_keyword(value: Any, expected: str) -> None:
    assert csp_reports.blocked_origin(value) == expected
