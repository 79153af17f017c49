"""Downloading a signed checkpoint and verifying it later from the audit page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from audit.actors import Actor
from audit.checkpoint import parse_checkpoint
from audit.models import AuditEvent
from audit.services import record
from tests.audit.helpers import triggers_disabled

pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")


def _url(tenant: Any, suffix: str) -> str:
    return f"/audit/tenants/{tenant.public_id}/{suffix}"


def _download(client: Client, tenant: Any) -> bytes:
    response = client.get(_url(tenant, "checkpoint/"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    return bytes(response.content)


def _verify(client: Client, tenant: Any, raw: bytes) -> str:
    upload = SimpleUploadedFile("checkpoint.json", raw, content_type="application/json")
    response = client.post(_url(tenant, "checkpoint/verify/"), {"checkpoint": upload}, follow=True)
    return " ".join(str(m) for m in response.context["messages"])


def test_a_downloaded_checkpoint_covers_its_own_download_and_is_signed(
    carol_client: Client, globex: Any
) -> None:
    record(action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=globex)
    doc = parse_checkpoint(_download(carol_client, globex))
    last = AuditEvent.objects.order_by("-id").first()
    assert last is not None and last.action == "audit.checkpoint_downloaded"
    assert (doc["seq"], doc["hash"]) == (last.seq, last.hash)


def test_the_page_confirms_the_chain_still_extends_a_checkpoint(
    carol_client: Client, globex: Any
) -> None:
    raw = _download(carol_client, globex)
    record(action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=globex)
    assert "still extends" in _verify(carol_client, globex, raw)
    event = AuditEvent.objects.filter(action="audit.checkpoint_verified").get()
    assert event.outcome == "success"


def test_the_page_reports_history_removed_after_a_checkpoint(
    carol_client: Client, globex: Any
) -> None:
    record(action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=globex)
    raw = _download(carol_client, globex)
    with triggers_disabled():
        AuditEvent.objects.filter(action="tenant.viewed").delete()
    assert "FAILED at seq 1" in _verify(carol_client, globex, raw)
    assert AuditEvent.objects.get(action="audit.checkpoint_verified").outcome == "failure"


def test_a_checkpoint_of_another_tenant_is_refused(
    carol_client: Client, bob_client: Client, globex: Any, other_tenant: Any, acme: Any
) -> None:
    from tests.broker.factories import TenantMembershipFactory

    TenantMembershipFactory(tenant=other_tenant, user=_user(carol_client), role="viewer")
    raw = _download(carol_client, other_tenant)
    assert "another audit chain" in _verify(carol_client, globex, raw)


def test_a_forged_checkpoint_is_refused(carol_client: Client, globex: Any) -> None:
    doc = json.loads(_download(carol_client, globex))
    doc["seq"] += 1
    assert "signature is invalid" in _verify(carol_client, globex, json.dumps(doc).encode())


def _user(client: Client) -> Any:
    from accounts.models import User

    return User.objects.get(pk=client.session["_auth_user_id"])


def test_the_page_offers_the_latest_published_checkpoint_byte_for_byte(
    carol_client: Client, globex: Any
) -> None:
    from audit.models import AuditChainHead
    from audit.publishing import checkpoint_publish

    assert "None has been published yet" in carol_client.get(_url(globex, "")).content.decode()
    response = carol_client.get(_url(globex, "checkpoint/published/"), follow=True)
    assert "No checkpoint" in " ".join(str(m) for m in response.context["messages"])
    head = AuditChainHead.objects.get(tenant_public_id=globex.public_id)
    published = checkpoint_publish(chain_pk=head.pk)
    assert published is not None
    page = carol_client.get(_url(globex, "")).content.decode()
    assert "Download latest published checkpoint" in page
    download = carol_client.get(_url(globex, "checkpoint/published/"))
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    assert download.content.decode() == published.body
    last = AuditEvent.objects.order_by("-id").first()
    assert last is not None and last.action == "audit.checkpoint_downloaded"
    assert last.data == {"published_seq": published.seq}
    assert "still extends" in _verify(carol_client, globex, download.content)
