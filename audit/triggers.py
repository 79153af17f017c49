"""Database triggers that make the audit tables append-only (ACCEPTANCE L-03, L-06).

PostgreSQL refuses UPDATE, DELETE (row triggers) and TRUNCATE (statement trigger); SQLite refuses
UPDATE and DELETE (it has no TRUNCATE). Only the table's owner can disable them, which is why the
application should connect as a role that does not own its tables (docs/audit.md).

Two tables carry them: the events (``audit_auditevent``, migration 0002) and the published
checkpoints (``audit_auditcheckpoint``, migration 0004). Each table has its own trigger names
(and, on PostgreSQL, its own function), so either can be lifted or dropped without the other.
"""

from __future__ import annotations

from typing import Any

TABLE = "audit_auditevent"
CHECKPOINT_TABLE = "audit_auditcheckpoint"
# Trigger-name prefix of each table; the event table keeps the names migration 0002 created.
_PREFIX = {TABLE: "audit_event", CHECKPOINT_TABLE: "audit_checkpoint"}
TABLES = tuple(_PREFIX)


def _pg_install(table: str, p: str) -> list[str]:
    return [
        f"""
        CREATE OR REPLACE FUNCTION {p}_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{table} is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """,
        f"""
        CREATE TRIGGER {p}_no_update_delete BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION {p}_append_only()
        """,
        f"""
        CREATE TRIGGER {p}_no_truncate BEFORE TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION {p}_append_only()
        """,
    ]


def _pg_remove(table: str, p: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {p}_no_update_delete ON {table}",
        f"DROP TRIGGER IF EXISTS {p}_no_truncate ON {table}",
        f"DROP FUNCTION IF EXISTS {p}_append_only()",
    ]


def _sqlite_install(table: str, p: str) -> list[str]:
    return [
        f"""
        CREATE TRIGGER IF NOT EXISTS {p}_no_update BEFORE UPDATE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END
        """,
        f"""
        CREATE TRIGGER IF NOT EXISTS {p}_no_delete BEFORE DELETE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END
        """,
    ]


def _sqlite_remove(table: str, p: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {p}_no_update", f"DROP TRIGGER IF EXISTS {p}_no_delete"]


def _statements(vendor: str, install: bool, table: str) -> list[str]:
    prefix = _PREFIX[table]
    if vendor == "postgresql":
        return (_pg_install if install else _pg_remove)(table, prefix)
    if vendor == "sqlite":
        return (_sqlite_install if install else _sqlite_remove)(table, prefix)
    raise NotImplementedError(f"No append-only triggers for database vendor {vendor!r}.")


def install(connection: Any, table: str = TABLE) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, install=True, table=table):
            cursor.execute(sql)


def remove(connection: Any, table: str = TABLE) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, install=False, table=table):
            cursor.execute(sql)
