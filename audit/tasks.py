"""Celery tasks of the audit app."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

from audit.models import AuditEvent
from audit.selectors import notification_recipients


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, max_retries=8)
def notify_security_event(*, event_pk: int) -> int:
    """E-mail the opted-in admins of the event's organisation; returns how many were mailed."""
    event = AuditEvent.objects.filter(pk=event_pk).first()
    if event is None:
        return 0
    recipients = notification_recipients(event=event)
    if not recipients:
        return 0
    scope = f"tenant {event.tenant_ref}" if event.tenant_public_id else "your vendor organisation"
    # Only the action, actor and outcome: data may describe things recipients should see in the
    # portal, behind its access checks, rather than in a mailbox.
    body = (
        f"Security-relevant activity in {scope}:\n\n"
        f"  action:  {event.action}\n  outcome: {event.outcome}\n"
        f"  actor:   {event.actor_kind} {event.actor_label or event.actor_id}\n"
        f"  time:    {event.time.isoformat()}\n  event:   {event.event_id}\n\n"
        f"See the audit log: {settings.SITE_URL}/audit/\n"
    )
    send_mail(
        subject=f"[OpenCMK] {event.action}",
        message=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=recipients,
    )
    return len(recipients)


@shared_task(ignore_result=True)
def publish_checkpoints() -> dict[str, int]:
    """Celery beat, every OPENCMK_AUDIT_CHECKPOINT_SECONDS: checkpoint every chain that advanced."""
    from audit.publishing import checkpoints_publish_due

    report = checkpoints_publish_due()
    return {"published": report.published, "failed": report.failed}


@shared_task(ignore_result=True)
def publish_chain_checkpoint(*, chain_pk: int) -> bool | None:
    """Scheduled by record() every OPENCMK_AUDIT_CHECKPOINT_EVENTS events of one chain."""
    from audit.publishing import checkpoint_publish_logged

    return checkpoint_publish_logged(chain_pk=chain_pk)
