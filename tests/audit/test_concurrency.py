"""L-05: many concurrent writers on one chain keep it gap-free, unique and verifiable."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections, transaction

from audit.actors import Actor
from audit.models import AuditChainHead, AuditEvent
from audit.services import record
from audit.verify import verify_chain
from tenants.models import Tenant
from vendors.models import Vendor

THREADS = 20
EVENTS_PER_THREAD = 50

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks under real concurrency need PostgreSQL (CI runs it); SQLite serialises",
    ),
    pytest.mark.slow,
]


def _writer(
    tenant: Tenant, vendor: Vendor, n: int, barrier: threading.Barrier, errors: list[Any]
) -> None:
    try:
        barrier.wait()
        for i in range(EVENTS_PER_THREAD):
            with transaction.atomic():
                # Alternate chains so two heads are created and contended at once.
                record(
                    action="tenant.viewed",
                    actor=Actor.system(),
                    vendor=vendor,
                    tenant=tenant if i % 5 else None,
                    data={"writer": n, "i": i},
                )
    except Exception as exc:  # collected and asserted on by the test thread
        errors.append(exc)
    finally:
        connections.close_all()


def test_concurrent_writers_keep_every_chain_gap_free_and_valid(transactional_db: Any) -> None:
    vendor = Vendor.objects.create(name="Busy")
    tenant = Tenant.objects.create(vendor=vendor, tenant_id="busy", name="Busy")
    barrier = threading.Barrier(THREADS)
    errors: list[Any] = []
    threads = [
        threading.Thread(target=_writer, args=(tenant, vendor, n, barrier, errors))
        for n in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    total = 0
    for head in AuditChainHead.objects.all():
        seqs = list(
            AuditEvent.objects.filter(chain=head).order_by("seq").values_list("seq", flat=True)
        )
        assert seqs == list(range(1, head.seq + 1))
        assert verify_chain(head).ok
        total += len(seqs)
    assert AuditChainHead.objects.count() == 2
    assert total == THREADS * EVENTS_PER_THREAD
