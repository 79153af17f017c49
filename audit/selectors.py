"""Every read of the audit log, scoped to one organisation first."""

from __future__ import annotations

from typing import Any

from audit.models import AuditEvent, NotificationSubscription
from vendors.models import Role


def notification_recipients(*, event: AuditEvent) -> list[str]:
    """Addresses of the opted-in users who are admins of the event's organisation right now."""
    subs = NotificationSubscription.objects.filter(
        vendor_public_id=event.vendor_public_id, tenant_public_id=event.tenant_public_id
    )
    if event.tenant_public_id is not None:
        subs = subs.filter(
            user__tenant_memberships__tenant__public_id=event.tenant_public_id,
            user__tenant_memberships__role=Role.ADMIN,
        )
    else:
        subs = subs.filter(
            user__vendor_memberships__vendor__public_id=event.vendor_public_id,
            user__vendor_memberships__role=Role.ADMIN,
        )
    emails: Any = subs.filter(user__is_active=True).values_list("user__email", flat=True)
    return sorted(set(emails))
