"""Rules shared by vendor and tenant memberships."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from vendors.models import Role


class LastAdminError(Exception):
    def __init__(self) -> None:
        super().__init__("An organisation needs at least one admin: add another admin first.")


def ensure_an_admin_remains(
    members: QuerySet[Any], membership: Any, *, new_role: str | None
) -> None:
    """Refuse to demote or remove the organisation's last admin.

    ``members`` is the organisation's membership queryset; its admin rows are locked so two
    admins cannot demote each other at the same moment.
    """
    if membership.role != Role.ADMIN or new_role == Role.ADMIN:
        return
    admin_ids = list(
        members.select_for_update().filter(role=Role.ADMIN).values_list("pk", flat=True)
    )
    if admin_ids == [membership.pk] or not admin_ids:
        raise LastAdminError
