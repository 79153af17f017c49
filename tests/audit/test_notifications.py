"""Opt-in e-mail to organisation admins about security-relevant events, sent after commit."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from audit.actors import Actor
from audit.models import AuditEvent, NotificationSubscription
from audit.notifications import is_security_relevant
from audit.services import notification_set, record

pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")


@pytest.fixture(autouse=True)
def eager_celery(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the task in-process through Celery's own ``apply`` (CI has Redis, so Celery is not
    eager there). Not ``task_always_eager``: eager ``delay`` builds a producer pool bound to the
    broker URL of that moment, which would leak into later tests that start a real worker."""
    from audit import tasks

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    task = tasks.notify_security_event
    monkeypatch.setattr(task, "delay", lambda **kwargs: task.apply(kwargs=kwargs).get())


def test_an_admin_opts_in_from_the_audit_page_and_it_is_recorded(
    bob_client: Client, bob: Any, globex: Any
) -> None:
    response = bob_client.post(
        f"/audit/tenants/{globex.public_id}/notifications/", {"enabled": "1"}
    )
    assert response.status_code == 302
    assert NotificationSubscription.objects.filter(
        user=bob, tenant_public_id=globex.public_id
    ).exists()
    assert AuditEvent.objects.filter(action="audit.notifications_enabled").count() == 1
    bob_client.post(f"/audit/tenants/{globex.public_id}/notifications/", {"enabled": "0"})
    assert not NotificationSubscription.objects.filter(user=bob).exists()
    assert AuditEvent.objects.filter(action="audit.notifications_disabled").count() == 1


def test_viewers_cannot_subscribe(carol_client: Client, globex: Any) -> None:
    response = carol_client.post(
        f"/audit/tenants/{globex.public_id}/notifications/", {"enabled": "1"}
    )
    assert response.status_code == 403
    assert not NotificationSubscription.objects.exists()


def test_opted_in_admins_get_mail_after_commit_only(
    bob: Any,
    carol: Any,
    alice: Any,
    acme: Any,
    globex: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    notification_set(actor=Actor.for_user(bob), user=bob, vendor=acme, tenant=globex, enabled=True)
    # carol is a viewer: even subscribed (e.g. before a demotion), she is not mailed.
    NotificationSubscription.objects.create(
        user=carol, vendor_public_id=acme.public_id, tenant_public_id=globex.public_id
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        record(action="kms_config.sealed", actor=Actor.for_user(bob), vendor=acme, tenant=globex)
    assert mail.outbox == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["bob@globex.test"]
    assert "kms_config.sealed" in message.subject and "globex" in message.body


def test_ordinary_events_and_other_organisations_send_nothing(
    bob: Any, acme: Any, globex: Any, other_tenant: Any, django_capture_on_commit_callbacks: Any
) -> None:
    notification_set(actor=Actor.for_user(bob), user=bob, vendor=acme, tenant=globex, enabled=True)
    with django_capture_on_commit_callbacks(execute=True):
        record(action="tenant.viewed", actor=Actor.for_user(bob), vendor=acme, tenant=globex)
        record(action="kms_config.sealed", actor=Actor.system(), vendor=acme, tenant=other_tenant)
    assert mail.outbox == []


def test_vendor_admins_subscribe_to_vendor_level_events(
    alice_client: Client, alice: Any, acme: Any, django_capture_on_commit_callbacks: Any
) -> None:
    alice_client.post(f"/audit/vendors/{acme.public_id}/notifications/", {"enabled": "1"})
    with django_capture_on_commit_callbacks(execute=True):
        record(action="vendor_member.removed", actor=Actor.system(), vendor=acme)
    assert [m.to for m in mail.outbox] == [["alice@acme.test"]]


@pytest.mark.parametrize(
    ("action", "relevant"),
    [
        ("tenant_member.removed", True),
        ("vendor_member.role_changed", True),
        ("kms_config.deleted", True),
        ("audit.exported", True),
        ("tenant.viewed", False),
        ("audit.viewed", False),
    ],
)
def test_security_relevance_is_decided_in_one_list(action: str, relevant: bool) -> None:
    assert is_security_relevant(action) is relevant
