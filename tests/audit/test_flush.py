"""The flush override: test databases can be reset; others keep their audit log."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.actors import Actor
from audit.models import AuditEvent
from audit.services import record
from vendors.models import Vendor


def test_a_transactional_test_database_can_be_flushed_despite_the_triggers(
    transactional_db: Any,
) -> None:
    vendor = Vendor.objects.create(name="Flushed")
    record(action="vendor.settings_changed", actor=Actor.system(), vendor=vendor)
    call_command("flush", interactive=False, verbosity=0)
    assert AuditEvent.objects.count() == 0
    # The triggers are back afterwards.
    record(action="vendor.settings_changed", actor=Actor.system(), vendor=None)
    with pytest.raises(Exception, match="append-only"):
        AuditEvent.objects.all().delete()


def test_flush_refuses_outside_the_test_runner(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(mail, "outbox")
    with pytest.raises(CommandError, match="append-only"):
        call_command("flush", interactive=False, verbosity=0)
