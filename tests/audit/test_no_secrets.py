"""L-08 for the audit path: canary secrets reach neither audit rows, exports nor log output."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client

from audit.actors import Actor
from audit.export import csv_lines, jsonl_lines
from audit.models import AuditEvent
from audit.services import AuditWriteError, record

pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")

CANARIES = {
    "api_key": "cmk_live_CANARY0123456789abcdef",
    "secret_access_key": "CANARYwJalrXUtnFEMI/K7MDENG/bPxRfiCY",
    "totp_secret": "CANARYJBSWY3DPEHPK3PXP",
    "client_secret": "CANARY~azure~secret",
    "password": "CANARY correct horse",
}


def _everything(caplog: pytest.LogCaptureFixture) -> str:
    rows = AuditEvent.objects.all()
    return "\n".join(
        [
            repr(list(rows.values())),
            "".join(jsonl_lines(rows)),
            "".join(csv_lines(rows)),
            caplog.text,
        ]
    )


def test_canaries_in_event_data_never_reach_rows_exports_or_logs(
    globex: Any, caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    settings.DEBUG = True
    caplog.set_level(logging.DEBUG)
    record(
        action="kms_config.sealed",
        actor=Actor.system(),
        vendor=None,
        tenant=globex,
        data={"provider": "aws-kms", "config": dict(CANARIES), "headers": [dict(CANARIES)]},
    )
    dump = _everything(caplog)
    assert "aws-kms" in dump
    for canary in CANARIES.values():
        assert canary not in dump


def test_a_failed_write_does_not_log_the_event_data(
    globex: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audit import services

    def refuse(event: AuditEvent) -> None:
        raise RuntimeError(f"insert failed for {event.data}")  # a driver error echoing values

    monkeypatch.setattr(services, "_insert", refuse)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuditWriteError) as info:
        record(
            action="tenant.viewed",
            actor=Actor.system(),
            vendor=None,
            tenant=globex,
            data={"note": "CANARY-note"},
        )
    assert "CANARY-note" not in caplog.text and "CANARY-note" not in str(info.value)


def test_a_password_typed_into_the_login_form_is_never_recorded(
    db: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    typed = "canary-typed-identifier@example.com"
    Client().post("/accounts/login/", {"login": typed, "password": CANARIES["password"]})
    assert AuditEvent.objects.filter(action="user.login_failed").count() == 1
    dump = _everything(caplog)
    assert CANARIES["password"] not in dump
    assert "canary-typed-identifier" not in dump  # only its HMAC
