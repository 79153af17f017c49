"""L-06: signed checkpoints leave the system on a schedule and every N events; the verifier
checks every one of them, so events deleted after a checkpoint are detected."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from audit import metrics
from audit.actors import Actor
from audit.checkpoint import checkpoint_for, parse_checkpoint
from audit.models import AuditChainHead, AuditCheckpoint, AuditEvent
from audit.publishing import checkpoint_publish, checkpoint_publish_logged
from audit.services import record
from audit.sinks import WormDirectorySink, checkpoint_name
from audit.tasks import publish_checkpoints
from audit.triggers import CHECKPOINT_TABLE
from broker.celery import app as celery_app
from tests.audit.helpers import raw, triggers_disabled
from tests.broker.factories import TenantFactory


@pytest.fixture(autouse=True)
def worm(settings: Any, tmp_path: Path) -> Path:
    settings.OPENCMK_AUDIT_CHECKPOINT_DIR = str(tmp_path / "worm")
    return tmp_path / "worm"


def _events(tenant: Any, n: int) -> AuditChainHead:
    for i in range(n):
        record(
            action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=tenant, data={"i": i}
        )
    return AuditChainHead.objects.get(tenant_public_id=tenant.public_id)


def _verify(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("verify_audit_chain", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def _published(head: AuditChainHead) -> list[int]:
    return list(head.checkpoints.order_by("seq").values_list("seq", flat=True))


# --- when checkpoints are published ---------------------------------------------------------


def test_beat_publishes_only_the_chains_that_advanced(tenant: Any, vendor: Any) -> None:
    head = _events(tenant, 3)
    record(action="vendor.settings_changed", actor=Actor.system(), vendor=vendor)
    assert publish_checkpoints.delay().get() == {"published": 2, "failed": 0}
    assert publish_checkpoints.delay().get() == {"published": 0, "failed": 0}
    record(action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=tenant)
    assert publish_checkpoints.delay().get() == {"published": 1, "failed": 0}
    assert _published(head) == [3, 4]
    vendor_head = AuditChainHead.objects.get(key=f"vendor:{vendor.public_id}")
    assert _published(vendor_head) == [1]


def test_the_command_publishes_what_beat_would(tenant: Any) -> None:
    head = _events(tenant, 2)
    out = StringIO()
    call_command("audit_checkpoint", "--publish", stdout=out)
    assert "1 published, 0 failed" in out.getvalue()
    assert _published(head) == [2]


def test_the_beat_schedule_names_a_registered_task_at_the_configured_interval() -> None:
    entry = django_settings.CELERY_BEAT_SCHEDULE["audit-checkpoints"]
    assert entry["task"] in celery_app.tasks
    assert entry["schedule"] == django_settings.OPENCMK_AUDIT_CHECKPOINT_SECONDS == 300
    assert django_settings.OPENCMK_AUDIT_CHECKPOINT_EVENTS == 1000


def test_every_n_events_of_a_chain_publish_one_checkpoint(
    tenant: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.OPENCMK_AUDIT_CHECKPOINT_EVENTS = 5
    for _ in range(12):
        with django_capture_on_commit_callbacks(execute=True):
            record(action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=tenant)
    head = AuditChainHead.objects.get(tenant_public_id=tenant.public_id)
    assert _published(head) == [5, 10]
    assert head.published_seq == 10


def test_a_write_that_does_not_reach_the_threshold_schedules_nothing(
    tenant: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.OPENCMK_AUDIT_CHECKPOINT_EVENTS = 5
    with django_capture_on_commit_callbacks() as callbacks:
        for _ in range(4):
            record(action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=tenant)
    assert callbacks == []


def test_the_threshold_check_adds_no_query_to_the_audit_write(
    tenant: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.OPENCMK_AUDIT_CHECKPOINT_EVENTS = 2
    record(action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=tenant)
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks() as due:
        record(action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=tenant)
    assert len(due) == 1  # the checkpoint waits for the commit...
    assert not [q for q in queries if "checkpoint" in q["sql"]]  # ...and costs the write nothing


@pytest.fixture
def unreachable_broker() -> Iterator[None]:
    """Celery pointed at a port where nothing listens, not eager: enqueueing fails for real."""
    saved = {k: celery_app.conf[k] for k in ("task_always_eager", "broker_url")}
    _forget_connections()
    celery_app.conf.update(task_always_eager=False, broker_url="redis://127.0.0.1:9/0")
    try:
        yield
    finally:
        celery_app.conf.update(saved)
        _forget_connections()


def _forget_connections() -> None:
    # As tests/accounts/test_celery_worker.py: the app caches pools of the old broker_url.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def test_a_broker_outage_never_breaks_the_audited_write(
    tenant: Any, settings: Any, unreachable_broker: None, django_capture_on_commit_callbacks: Any
) -> None:
    settings.OPENCMK_AUDIT_CHECKPOINT_EVENTS = 2
    failures = metrics.CHECKPOINT_FAILURES._value.get()
    with django_capture_on_commit_callbacks(execute=True):
        record(action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=tenant)
        event = record(action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=tenant)
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert metrics.CHECKPOINT_FAILURES._value.get() == failures + 1
    assert not AuditCheckpoint.objects.exists()


# --- the WORM directory ---------------------------------------------------------------------


def test_a_checkpoint_is_written_once_read_only_and_equal_to_the_stored_copy(
    tenant: Any, worm: Path
) -> None:
    head = _events(tenant, 3)
    stored = checkpoint_publish(chain_pk=head.pk)
    assert stored is not None
    path = worm / checkpoint_name(head.key, 3)
    assert path.parent.name == head.key.replace("/", "__").replace(":", "-")
    assert path.name == "000000000003.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert path.read_text() == stored.body
    doc = parse_checkpoint(path.read_bytes())
    assert (doc["chain"], doc["seq"], doc["hash"]) == (head.key, 3, head.hash)


def test_the_directory_sink_never_replaces_a_file(tmp_path: Path) -> None:
    sink = WormDirectorySink(tmp_path)
    assert sink.put(name="c/1.json", body=b"first") == b"first"
    assert sink.put(name="c/1.json", body=b"second") == b"first"
    assert (tmp_path / "c/1.json").read_bytes() == b"first"


def test_a_copy_left_by_a_crashed_attempt_is_the_one_published(tenant: Any, worm: Path) -> None:
    head = _events(tenant, 2)
    earlier = (json.dumps(checkpoint_for(head)) + "\n").encode()
    WormDirectorySink(worm).put(name=checkpoint_name(head.key, 2), body=earlier)
    stored = checkpoint_publish(chain_pk=head.pk)
    assert stored is not None and stored.body.encode() == earlier


def test_a_worm_file_with_another_hash_is_a_conflict_and_stays(tenant: Any, worm: Path) -> None:
    head = _events(tenant, 2)
    forged = checkpoint_for(AuditChainHead(key=head.key, seq=2, hash="ab" * 32))
    path = worm / checkpoint_name(head.key, 2)
    WormDirectorySink(worm).put(name=checkpoint_name(head.key, 2), body=json.dumps(forged).encode())
    failures = metrics.CHECKPOINT_FAILURES._value.get()
    assert checkpoint_publish_logged(chain_pk=head.pk) is False
    assert metrics.CHECKPOINT_FAILURES._value.get() == failures + 1
    assert json.loads(path.read_bytes())["hash"] == "ab" * 32
    assert not AuditCheckpoint.objects.exists()


def test_without_a_directory_checkpoints_are_stored_in_the_database_only(
    tenant: Any, settings: Any, worm: Path
) -> None:
    settings.OPENCMK_AUDIT_CHECKPOINT_DIR = ""
    head = _events(tenant, 1)
    assert checkpoint_publish(chain_pk=head.pk) is not None
    assert not worm.exists()


# --- the store is append-only ---------------------------------------------------------------

TAMPERING = {
    "orm_update": lambda: AuditCheckpoint.objects.update(hash="00" * 32),
    "orm_delete": lambda: AuditCheckpoint.objects.all().delete(),
    "raw_delete": lambda: raw(f"DELETE FROM {CHECKPOINT_TABLE}"),  # noqa: S608 -- constant table name
}


@pytest.mark.parametrize("attempt", TAMPERING.values(), ids=TAMPERING.keys())
def test_published_checkpoints_cannot_be_changed_or_removed(tenant: Any, attempt: Any) -> None:
    checkpoint_publish(chain_pk=_events(tenant, 2).pk)
    before = list(AuditCheckpoint.objects.values_list("seq", "hash", "body"))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        attempt()
    assert list(AuditCheckpoint.objects.values_list("seq", "hash", "body")) == before


# --- verification ---------------------------------------------------------------------------


def test_the_verifier_checks_every_published_checkpoint(tenant: Any) -> None:
    head = _events(tenant, 3)
    checkpoint_publish(chain_pk=head.pk)
    _events(tenant, 2)
    checkpoint_publish(chain_pk=head.pk)
    code, out = _verify("--tenant", str(tenant.public_id), "--worm")
    assert code == 0, out
    assert f"OK   {head.key} seq=5" in out and "checkpoints=4" in out  # 2 stored + 2 WORM


def _delete_after(head: AuditChainHead, seq: int) -> None:
    """The attacker: drop events after ``seq`` and rewind the head row, so the chain alone looks
    whole (tests/audit/test_verify.py shows the head-only check is fooled)."""
    kept = AuditEvent.objects.get(chain=head, seq=seq)
    with triggers_disabled():
        AuditEvent.objects.filter(chain=head, seq__gt=seq).delete()
    AuditChainHead.objects.filter(pk=head.pk).update(seq=seq, hash=kept.hash)


def test_events_deleted_after_a_published_checkpoint_are_detected(tenant: Any) -> None:
    head = _events(tenant, 6)
    checkpoint_publish(chain_pk=head.pk)
    _delete_after(head, 4)
    code, out = _verify("--tenant", str(tenant.public_id))
    assert code == 1
    assert f"FAIL {head.key} first bad seq=5" in out and "published checkpoint" in out


def test_the_worm_copy_catches_it_when_the_stored_checkpoints_are_deleted_too(
    tenant: Any,
) -> None:
    head = _events(tenant, 6)
    checkpoint_publish(chain_pk=head.pk)
    _delete_after(head, 4)
    with triggers_disabled(CHECKPOINT_TABLE):
        AuditCheckpoint.objects.filter(chain=head).delete()
    assert _verify("--tenant", str(tenant.public_id))[0] == 0  # the database alone is fooled
    code, out = _verify("--tenant", str(tenant.public_id), "--worm")
    assert code == 1
    assert f"FAIL {head.key} first bad seq=5" in out


def test_a_chain_whose_rows_are_all_gone_fails_against_the_worm_copies(
    tenant: Any, worm: Path
) -> None:
    head = _events(tenant, 2)
    checkpoint_publish(chain_pk=head.pk)
    with triggers_disabled(), triggers_disabled(CHECKPOINT_TABLE):
        AuditCheckpoint.objects.filter(chain=head).delete()
        AuditEvent.objects.filter(chain=head).delete()
    AuditChainHead.objects.filter(pk=head.pk).delete()
    code, out = _verify("--worm")
    assert code == 1 and "gone" in out


def test_a_stored_checkpoint_with_a_broken_signature_fails(tenant: Any) -> None:
    head = _events(tenant, 2)
    stored = checkpoint_publish(chain_pk=head.pk)
    assert stored is not None
    doc = json.loads(stored.body)
    doc["issued_at"] = "2020-01-01T00:00:00.000000Z"
    with triggers_disabled(CHECKPOINT_TABLE):
        AuditCheckpoint.objects.filter(pk=stored.pk).update(body=json.dumps(doc))
    code, out = _verify("--tenant", str(tenant.public_id))
    assert code == 1
    assert f"FAIL {head.key} stored checkpoint at seq 2" in out and "signature" in out


def test_a_test_database_with_checkpoints_can_still_be_flushed(transactional_db: None) -> None:
    checkpoint_publish(chain_pk=_events(TenantFactory(), 1).pk)
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditCheckpoint.objects.exists()
    checkpoint_publish(chain_pk=_events(TenantFactory(), 1).pk)  # the triggers are back
    with pytest.raises(DatabaseError, match="append-only"):
        AuditCheckpoint.objects.all().delete()
