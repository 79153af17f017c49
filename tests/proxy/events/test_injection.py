"""Log-injection safety (ACCEPTANCE L-09): caller-controlled text never breaks a record."""

from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from tenant_security_proxy.events import client_event
from tenant_security_proxy.events.sinks.stdout import StdoutSink
from tenant_security_proxy.events.sinks.syslog import format_message, frame
from tests.fakes.log_receivers import parse_rfc5424
from tests.proxy.events.support import run

NASTY = st.lists(
    st.sampled_from(['\n', '\r', '\x1b[31m', '"', '\\', ']', '}', '{', '\u2028', '\x00',
                     'é', '😀', ' ', 'a', '=', '\ufeff']),
    max_size=40,
).map("".join)  # fmt: skip


def _event(tenant_id: str, value: str, key: str) -> dict:
    return client_event(
        tenant_id=tenant_id,
        event="CUSTOM_X",
        icl_fields={"requestingId": value, "sourceIp": value},
        custom_fields={key or "k": value},
    )


@settings(max_examples=40, deadline=None)
@given(tenant_id=NASTY, value=NASTY, key=NASTY)
def test_stdout_writes_exactly_one_parseable_line_per_event(tenant_id, value, key):
    out = io.StringIO()
    events = [_event(tenant_id, value, key), _event(tenant_id, value[::-1], key)]
    run(StdoutSink(out).send(events))
    lines = out.getvalue().split("\n")
    assert lines[-1] == "" and len(lines) == 3
    assert [json.loads(line) for line in lines[:2]] == events


@settings(max_examples=40, deadline=None)
@given(tenant_id=NASTY, value=NASTY, key=NASTY)
def test_syslog_messages_stay_valid_rfc5424_whatever_the_fields_hold(tenant_id, value, key):
    ev = _event(tenant_id, value, key)
    message = format_message(ev, hostname="h", app_name="opencmk-tsp", procid="1")
    length, _, body = frame(message).partition(b" ")
    assert int(length) == len(body) == len(message)
    parsed = parse_rfc5424(body)
    assert parsed["sd"]["opencmk@32473"]["tenant"] == tenant_id
    assert json.loads(parsed["msg"]) == ev
