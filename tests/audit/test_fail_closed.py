"""L-02: when the audit write fails, the action does not happen and the user gets a 503."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import Invitation
from audit import metrics, services
from audit.models import AuditEvent

pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")


@pytest.fixture
def broken_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(event: AuditEvent) -> None:
        raise OSError("audit storage unavailable")

    monkeypatch.setattr(services, "_insert", refuse)


def test_an_invitation_is_not_sent_when_its_audit_event_cannot_be_written(
    bob_client: Client, globex: Any, broken_audit: None, mailoutbox: list[Any]
) -> None:
    before = metrics.AUDIT_WRITE_FAILURES._value.get()
    response = bob_client.post(
        f"/tenants/{globex.public_id}/members/invite/",
        {"email": "newcomer@globex.test", "role": "viewer"},
    )
    assert response.status_code == 503
    assert b"audit log" in response.content
    assert not Invitation.objects.filter(email="newcomer@globex.test").exists()
    assert mailoutbox == []
    assert metrics.AUDIT_WRITE_FAILURES._value.get() > before


def test_the_audit_page_itself_is_refused_when_its_view_cannot_be_recorded(
    carol_client: Client, globex: Any, broken_audit: None
) -> None:
    assert carol_client.get(f"/audit/tenants/{globex.public_id}/").status_code == 503


def test_an_export_does_not_start_when_it_cannot_be_recorded(
    bob_client: Client, globex: Any, broken_audit: None
) -> None:
    assert bob_client.get(f"/audit/tenants/{globex.public_id}/export.jsonl").status_code == 503
