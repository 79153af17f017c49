"""L-03: the database itself refuses to change or remove audit events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from audit.actors import Actor
from audit.models import AuditEvent
from audit.services import record
from audit.triggers import TABLE
from tests.audit.helpers import raw
from vendors.models import Vendor


@pytest.fixture
def events(vendor: Vendor) -> list[AuditEvent]:
    return [
        record(action="vendor.settings_changed", actor=Actor.system(), vendor=vendor, data={"n": n})
        for n in range(3)
    ]


def _snapshot() -> list[tuple[Any, ...]]:
    return list(
        AuditEvent.objects.order_by("pk").values_list("pk", "seq", "action", "data", "hash")
    )


ATTEMPTS: dict[str, Callable[[], object]] = {
    "orm_queryset_update": lambda: AuditEvent.objects.update(action="tampered.action"),
    "orm_queryset_delete": lambda: AuditEvent.objects.all().delete(),
    "orm_instance_save": lambda: _save_changed(),
    "orm_instance_delete": lambda: AuditEvent.objects.first().delete(),  # type: ignore[union-attr]
    "raw_update": lambda: raw(f"UPDATE {TABLE} SET action = 'tampered.action'"),  # noqa: S608 -- constant table name
    "raw_delete": lambda: raw(f"DELETE FROM {TABLE}"),  # noqa: S608 -- constant table name
    "raw_delete_one": lambda: raw(f"DELETE FROM {TABLE} WHERE seq = 2"),  # noqa: S608 -- constant table name
}


def _save_changed() -> None:
    event = AuditEvent.objects.first()
    assert event is not None
    event.outcome = "failure"
    event.save()


@pytest.mark.parametrize("attempt", ATTEMPTS.values(), ids=ATTEMPTS.keys())
def test_changes_to_recorded_events_are_refused(
    events: list[AuditEvent], attempt: Callable[[], object]
) -> None:
    before = _snapshot()
    with pytest.raises(DatabaseError), transaction.atomic():
        attempt()
    assert _snapshot() == before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no TRUNCATE")
def test_truncate_is_refused_on_postgresql(events: list[AuditEvent]) -> None:
    before = _snapshot()
    raw("SET CONSTRAINTS ALL IMMEDIATE")  # else TRUNCATE stops at the pending FK checks first
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(f"TRUNCATE {TABLE} CASCADE")
    assert _snapshot() == before


def test_inserts_remain_allowed(events: list[AuditEvent], vendor: Vendor) -> None:
    record(action="vendor.settings_changed", actor=Actor.system(), vendor=vendor)
    assert AuditEvent.objects.count() == 4
