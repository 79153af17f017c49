"""Exports (JSON Lines, CSV): streamed, admin-only, audited, verifiable, injection-safe (L-09)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit import context
from audit.actors import Actor
from audit.export import csv_lines, jsonl_lines
from audit.models import AuditEvent
from audit.selectors import AuditFilters, tenant_events
from audit.services import record
from audit.verify import verify_documents

pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")


def export_url(tenant: Any, fmt: str) -> str:
    return f"/audit/tenants/{tenant.public_id}/export.{fmt}"


@pytest.fixture
def events(globex: Any) -> None:
    for n in range(5):
        record(
            action="kms_config.sealed",
            actor=Actor.system(),
            vendor=None,
            tenant=globex,
            data={"n": n},
        )


def _body(response: Any) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def test_jsonl_export_streams_the_whole_chain_and_verifies(
    events: None, bob_client: Client, globex: Any, tmp_path: Path
) -> None:
    response = bob_client.get(export_url(globex, "jsonl"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/x-ndjson")
    assert "attachment" in response["Content-Disposition"]
    body = _body(response)
    lines = body.splitlines()
    # The export records itself first, so it is the last line of its own file.
    assert len(lines) == 6
    docs = [json.loads(line) for line in lines]
    assert [d["seq"] for d in docs] == [1, 2, 3, 4, 5, 6]
    assert docs[-1]["action"] == "audit.exported" and docs[-1]["data"] == {"format": "jsonl"}
    assert verify_documents(docs) == (6, None)
    path = tmp_path / "export.jsonl"
    path.write_text(body)
    call_command("verify_audit_chain", "--export", str(path))


def test_a_tampered_export_fails_verification(
    events: None, bob_client: Client, globex: Any
) -> None:
    docs = [
        json.loads(line) for line in _body(bob_client.get(export_url(globex, "jsonl"))).splitlines()
    ]
    docs[2]["outcome"] = "failure"
    count, problem = verify_documents(docs)
    assert count == 2 and problem is not None and "seq 3" in problem


def test_csv_export_has_a_header_and_one_row_per_event(
    events: None, bob_client: Client, globex: Any
) -> None:
    response = bob_client.get(export_url(globex, "csv"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(_body(response))))
    assert len(rows) == 6
    assert rows[0]["action"] == "kms_config.sealed" and rows[0]["data"] == '{"n":0}'


def test_export_is_for_admins_and_is_recorded(
    events: None, carol_client: Client, globex: Any
) -> None:
    assert carol_client.get(export_url(globex, "jsonl")).status_code == 403
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


def test_an_unknown_format_is_not_found(events: None, bob_client: Client, globex: Any) -> None:
    assert bob_client.get(export_url(globex, "xml")).status_code == 404


def test_csv_neutralises_spreadsheet_formulas(globex: Any) -> None:
    record(
        action="tenant.viewed",
        actor=Actor.system(),
        vendor=None,
        tenant=globex,
        target="=HYPERLINK(1)",
    )
    rows = list(
        csv.DictReader(
            io.StringIO("".join(csv_lines(tenant_events(tenant=globex, filters=AuditFilters()))))
        )
    )
    assert rows[0]["target_id"] == "'=HYPERLINK(1)"


hostile = st.text(
    alphabet=st.sampled_from(list('\r\n\t\x1b[31m"\\{}[],:\u2028\u2029\x85\x00\x7fa é€\U0001f600')),
    max_size=40,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(label=hostile, target=hostile, user_agent=hostile, value=hostile)
def test_hostile_strings_never_break_one_event_per_line(
    globex: Any, label: str, target: str, user_agent: str, value: str
) -> None:
    token = context.activate(
        context.RequestContext(request_id="req-hostile", user_agent=user_agent)
    )
    try:
        record(
            action="tenant.viewed",
            actor=Actor.proxy_cluster("c1", label=label),
            vendor=None,
            tenant=globex,
            target=target,
            data={value or "k": value, "nested": [value]},
        )
    finally:
        context.deactivate(token)
    events = tenant_events(tenant=globex, filters=AuditFilters()).order_by("seq")
    count = events.count()
    jsonl = "".join(jsonl_lines(events))
    assert jsonl.count("\n") == count
    assert len(jsonl.splitlines()) == count  # no U+2028/U+0085 line breaks survive either
    docs = [json.loads(line) for line in jsonl.splitlines()]
    assert verify_documents(docs) == (count, None)
    assert all(ord(c) < 128 for c in jsonl)
    csv_text = "".join(csv_lines(events))
    assert len(csv_text.splitlines()) == count + 1
    assert "\x1b" not in csv_text and "\r" not in csv_text


def test_rest_events_carry_the_canonical_document_a_siem_can_verify(globex: Any) -> None:
    from audit.api import AuditEventOut
    from audit.chain import link_hash

    record(
        action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=globex, data={"é": "\n"}
    )
    record(action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=globex)
    events = tenant_events(tenant=globex, filters=AuditFilters()).order_by("seq")
    out = [dict(AuditEventOut(e).data) for e in events]
    for item in out:
        assert (
            link_hash(item["prev_hash"], json.loads(json.dumps(item["canonical"]))) == item["hash"]
        )
    assert out[1]["prev_hash"] == out[0]["hash"]
