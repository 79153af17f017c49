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
        "member.",
        "invitation.accepted",
        "tenant.root_key_approved",
        "tenant_root.",
        "tenant_policy.signed",
        "kms_config.",
        "logging_config.",
        "cluster.",
        "api_key.",
        "audit.exported",
        "audit.checkpoint_downloaded",
        "tenant.deleted",
        "vendor.settings_changed",
    }
)


def is_security_relevant(action: str) -> bool:
    if action in SECURITY_ACTIONS:
        return True
    return any(rule.endswith(".") and action.startswith(rule) for rule in SECURITY_ACTIONS)


def schedule_notification(event: Any) -> None:
    if event.vendor_public_id is None or not is_security_relevant(event.action):
        return
    event_pk = event.pk

    def _send() -> None:
        from audit.tasks import notify_security_event

        notify_security_event.delay(event_pk=event_pk)

    transaction.on_commit(_send)
