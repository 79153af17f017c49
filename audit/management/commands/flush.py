"""``flush`` that knows the audit tables (events, checkpoints) are append-only.

Django's test runner flushes the database after every transactional test; the append-only
triggers would refuse that. On a test database (or with ``--wipe-audit-log``, for resetting a
development database) the triggers are lifted for the flush and put back afterwards. On any
other database the command refuses, as the triggers would anyway.
"""

from __future__ import annotations

from typing import Any

from django.core import mail
from django.core.management.base import CommandError, CommandParser
from django.core.management.commands import flush
from django.db import connections
from django.db.backends.base.creation import TEST_DATABASE_PREFIX

from audit import triggers


def _is_test_database(connection: Any) -> bool:
    """True under Django's test runner on a test database (``test_…`` or in-memory SQLite)."""
    # setup_test_environment() installs mail.outbox; no production process has it.
    if not hasattr(mail, "outbox"):
        return False
    name = str(connection.settings_dict["NAME"])
    in_memory = connection.vendor == "sqlite" and connection.is_in_memory_db()
    return in_memory or name.startswith(TEST_DATABASE_PREFIX)


class Command(flush.Command):
    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--wipe-audit-log",
            action="store_true",
            help="Also delete the append-only audit log (development databases only).",
        )

    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        if not (options["wipe_audit_log"] or _is_test_database(connection)):
            raise CommandError(
                "The audit log is append-only; pass --wipe-audit-log to flush it as well."
            )
        present = set(connection.introspection.table_names())
        guarded = [table for table in triggers.TABLES if table in present]
        for table in guarded:
            triggers.remove(connection, table)
        try:
            super().handle(**options)
        finally:
            for table in guarded:
                triggers.install(connection, table)
