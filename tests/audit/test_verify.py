"""L-04: verify_audit_chain detects edits, deletions, swaps and a truncated tail."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.actors import Actor
from audit.checkpoint import checkpoint_for
from audit.models import AuditChainHead, AuditEvent
from audit.services import record
from audit.triggers import TABLE
from audit.verify import verify_chain
from tenants.models import Tenant
from tests.audit.helpers import raw, triggers_disabled


@pytest.fixture
def chain(tenant: Tenant) -> AuditChainHead:
    for n in range(6):
        record(
            action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=tenant, data={"n": n}
        )
    return AuditChainHead.objects.get(tenant_public_id=tenant.public_id)


def _run(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("verify_audit_chain", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


def _first_bad(head: AuditChainHead) -> int | None:
    head.refresh_from_db()
    return verify_chain(head).first_bad_seq


def test_a_clean_chain_verifies(chain: AuditChainHead, tenant: Tenant) -> None:
    code, out = _run("--tenant", str(tenant.public_id))
    assert code == 0
    assert f"OK   {chain.key} seq=6" in out


def test_it_reports_an_edited_field(chain: AuditChainHead, tenant: Tenant) -> None:
    with triggers_disabled():
        raw(f"UPDATE {TABLE} SET outcome = 'failure' WHERE chain_id = %s AND seq = 3", [chain.pk])  # noqa: S608 -- constant table name
    code, out = _run("--tenant", str(tenant.public_id))
    assert code == 1
    assert "first bad seq=3" in out and "edited" in out


def test_it_reports_edited_data(chain: AuditChainHead) -> None:
    event = AuditEvent.objects.get(chain=chain, seq=4)
    with triggers_disabled():
        AuditEvent.objects.filter(pk=event.pk).update(data={"n": 99})
    assert _first_bad(chain) == 4


def test_it_reports_a_deleted_row(chain: AuditChainHead) -> None:
    with triggers_disabled():
        AuditEvent.objects.filter(chain=chain, seq=2).delete()
    assert _first_bad(chain) == 2


def test_it_reports_two_swapped_rows(chain: AuditChainHead) -> None:
    with triggers_disabled():
        raw(f"UPDATE {TABLE} SET seq = -1 WHERE chain_id = %s AND seq = 4", [chain.pk])  # noqa: S608 -- constant table name
        raw(f"UPDATE {TABLE} SET seq = 4 WHERE chain_id = %s AND seq = 5", [chain.pk])  # noqa: S608 -- constant table name
        raw(f"UPDATE {TABLE} SET seq = 5 WHERE chain_id = %s AND seq = -1", [chain.pk])  # noqa: S608 -- constant table name
    assert _first_bad(chain) == 4


def test_it_reports_a_truncated_tail_against_the_chain_head(chain: AuditChainHead) -> None:
    with triggers_disabled():
        AuditEvent.objects.filter(chain=chain, seq__gte=5).delete()
    head = AuditChainHead.objects.get(pk=chain.pk)
    report = verify_chain(head)
    assert report.first_bad_seq == 5 and "truncated" in report.reason


def test_a_checkpoint_catches_truncation_even_when_the_head_row_is_rewound(
    chain: AuditChainHead, tenant: Tenant, tmp_path: Path
) -> None:
    path = tmp_path / "checkpoint.json"
    path.write_text(json.dumps(checkpoint_for(chain)))
    last_kept = AuditEvent.objects.get(chain=chain, seq=4)
    with triggers_disabled():
        AuditEvent.objects.filter(chain=chain, seq__gte=5).delete()
    AuditChainHead.objects.filter(pk=chain.pk).update(seq=4, hash=last_kept.hash)
    assert _run("--tenant", str(tenant.public_id))[0] == 0  # the head alone is fooled
    code, out = _run("--from-checkpoint", str(path))
    assert code == 1
    assert "first bad seq=5" in out


def test_a_checkpoint_still_verifies_after_the_chain_grows(
    chain: AuditChainHead, tenant: Tenant, tmp_path: Path
) -> None:
    path = tmp_path / "checkpoint.json"
    path.write_text(json.dumps(checkpoint_for(chain)))
    record(action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=tenant)
    code, out = _run("--from-checkpoint", str(path))
    assert code == 0, out
    assert "seq=7" in out


def test_a_checkpoint_of_a_rewritten_history_fails(chain: AuditChainHead, tmp_path: Path) -> None:
    doc = checkpoint_for(chain)
    path = tmp_path / "checkpoint.json"
    path.write_text(json.dumps(doc))
    # Rewrite history consistently from seq 3 on (hashes recomputed): only the checkpoint knows.
    from audit.chain import event_document, link_hash

    with triggers_disabled():
        prev = AuditEvent.objects.get(chain=chain, seq=2).hash
        for event in AuditEvent.objects.filter(chain=chain, seq__gte=3).order_by("seq"):
            event.data = {"n": "forged"}
            event.prev_hash = prev
            event.hash = link_hash(prev, event_document(event, chain.key))
            event.save()
            prev = event.hash
    AuditChainHead.objects.filter(pk=chain.pk).update(hash=prev)
    head = AuditChainHead.objects.get(pk=chain.pk)
    assert verify_chain(head).ok  # internally consistent
    code, out = _run("--from-checkpoint", str(path))
    assert code == 1 and "first bad seq=6" in out


def test_a_forged_checkpoint_is_rejected(chain: AuditChainHead, tmp_path: Path) -> None:
    doc = checkpoint_for(chain)
    doc["seq"] = 3
    path = tmp_path / "checkpoint.json"
    path.write_text(json.dumps(doc))
    code, _ = _run("--from-checkpoint", str(path))
    assert code == 1


def test_vendor_option_selects_all_chains_of_that_vendor(
    chain: AuditChainHead, tenant: Tenant, other_tenant: Tenant
) -> None:
    record(action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=other_tenant)
    record(action="vendor.settings_changed", actor=Actor.system(), vendor=tenant.vendor)
    record(action="user.logged_in", actor=Actor.system(), vendor=None)
    code, out = _run("--vendor", str(tenant.vendor.public_id))
    assert code == 0
    assert "3 chain(s) checked" in out


def test_periodic_checkpoints_in_a_directory_anchor_every_chain(
    chain: AuditChainHead, tenant: Tenant, tmp_path: Path
) -> None:
    record(action="vendor.settings_changed", actor=Actor.system(), vendor=tenant.vendor)
    call_command("audit_checkpoint", "--out", str(tmp_path), stdout=StringIO())
    record(action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=tenant)
    call_command("audit_checkpoint", "--out", str(tmp_path), stdout=StringIO())
    # two chains, two rounds; the unchanged vendor head rewrites the same file
    assert len(list(tmp_path.rglob("*.json"))) == 3
    code, out = _run("--from-checkpoint", str(tmp_path))
    assert code == 0 and "2 chain(s) checked, 0 failed" in out
    # Someone removes the newest tenant event and rewinds the head to hide it.
    kept = AuditEvent.objects.get(chain=chain, seq=6)
    with triggers_disabled():
        AuditEvent.objects.filter(chain=chain, seq=7).delete()
    AuditChainHead.objects.filter(pk=chain.pk).update(seq=6, hash=kept.hash)
    code, out = _run("--from-checkpoint", str(tmp_path))
    assert code == 1 and "first bad seq=7" in out


def test_a_chain_removed_entirely_is_reported_from_its_checkpoint(
    chain: AuditChainHead, tmp_path: Path
) -> None:
    call_command("audit_checkpoint", "--out", str(tmp_path), stdout=StringIO())
    with triggers_disabled():
        AuditEvent.objects.filter(chain=chain).delete()
    AuditChainHead.objects.filter(pk=chain.pk).delete()
    code, _ = _run("--from-checkpoint", str(tmp_path))
    assert code == 1
