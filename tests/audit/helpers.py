"""Test helpers: lift the append-only triggers to play the attacker with database access."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from audit import triggers


@contextmanager
def triggers_disabled(table: str = triggers.TABLE) -> Iterator[None]:
    """What a superuser could do; the hash chain must still notice (L-04).

    Inside the test's transaction: rolled back with it on PostgreSQL, reinstalled on SQLite.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Deferred FK checks of rows inserted in this transaction block ALTER TABLE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    else:
        triggers.remove(connection, table)
        try:
            yield
        finally:
            triggers.install(connection, table)


def raw(sql: str, params: list[object] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
