"""allauth hooks with no signal of their own.

Wire with ``USERSESSIONS_ADAPTER = "audit.adapters.AuditedUserSessionsAdapter"`` in settings:
ending sessions from the "Sessions" page is then one ``user.sessions_ended`` event (L-01
"session kill") on the platform chain, written before the sessions are ended.
"""

from __future__ import annotations

from typing import Any

from allauth.usersessions.adapter import DefaultUserSessionsAdapter
from django.db import transaction

from audit.actors import Actor
from audit.services import record


class AuditedUserSessionsAdapter(DefaultUserSessionsAdapter):
    def end_sessions(self, sessions: Any) -> None:
        sessions = list(sessions)
        if not sessions:
            return
        user = sessions[0].user
        with transaction.atomic():
            record(
                action="user.sessions_ended",
                actor=Actor.for_user(user),
                vendor=None,
                target=user,
                data={"count": len(sessions)},
            )
            super().end_sessions(sessions)
