"""Opt-in e-mail to organisation admins about security-relevant events.

The one list of what counts as security-relevant lives here. Mail leaves through a Celery task
scheduled with ``transaction.on_commit``, so a rolled-back action never notifies anyone.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

# Exact actions, or a prefix ending in "." for a whole family.
SECURITY_ACTIONS: frozenset[str] = frozenset(
    {
        # who holds power
        "vendor_member.",
        "tenant_member.",
        "invitation.created",
        "invitation.accepted",
        # keys and trust
        "vendor_root.",
        "tenant_root.",
        "root_key.",
        "proxy_cluster.",
        "api_key.",
        # a tenant's KMS and logging configuration
        "kms_config.",
        "logging_config.",
        "tenant_policy.",
        # the organisation and its audit trail
        "vendor.settings_changed",
        "tenant.deleted",
        "audit.exported",
        "audit.notifications_disabled",
    }
)


def is_security_relevant(action: str) -> bool:
    if action in SECURITY_ACTIONS:
        return True
    return any(rule.endswith(".") and action.startswith(rule) for rule in SECURITY_ACTIONS)


def schedule_notification(event: Any) -> None:
    if event.vendor_public_id is None or not is_security_relevant(event.action):
        return
    from audit.models import NotificationSubscription

    # Skip the task entirely when nobody in this organisation opted in (the common case).
    if not NotificationSubscription.objects.filter(
        vendor_public_id=event.vendor_public_id, tenant_public_id=event.tenant_public_id
    ).exists():
        return
    event_pk = event.pk

    def _send() -> None:
        from audit.tasks import notify_security_event

        notify_security_event.delay(event_pk=event_pk)

    transaction.on_commit(_send)
