"""Pagination stays cheap with many events: constant query count, index-backed plans."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.actors import Actor
from audit.models import AuditChainHead, AuditEvent
from audit.selectors import AuditFilters, tenant_events, tenant_page, vendor_events, vendor_page
from audit.services import record

pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")


def bulk_events(head: AuditChainHead, count: int, *, start: int = 1000) -> None:
    """Insert filler rows fast (inserts are allowed; only UPDATE/DELETE are refused)."""
    now = timezone.now()
    rows = [
        AuditEvent(
            chain=head,
            seq=start + n,
            time=now - timedelta(seconds=count - n),
            action="tenant.viewed",
            actor_kind="system",
            vendor_public_id=head.vendor_public_id,
            tenant_public_id=head.tenant_public_id,
            vendor_visible=n % 2 == 0,
            prev_hash="0" * 64,
            hash="0" * 64,
        )
        for n in range(count)
    ]
    AuditEvent.objects.bulk_create(rows, batch_size=2000)


def _queries(client: Client, url: str) -> int:
    """Queries on the audit tables (session and login bookkeeping vary with time, not size)."""
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return sum('"audit_' in q["sql"] for q in ctx.captured_queries)


def test_page_query_count_does_not_grow_with_the_log(
    bob_client: Client, alice_client: Client, globex: Any, acme: Any
) -> None:
    head = record(action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=globex).chain
    vendor_head = record(action="vendor.settings_changed", actor=Actor.system(), vendor=acme).chain
    tenant_url, vendor_url = (
        f"/audit/tenants/{globex.public_id}/",
        f"/audit/vendors/{acme.public_id}/",
    )
    small = (_queries(bob_client, tenant_url), _queries(alice_client, vendor_url))
    bulk_events(head, 3000)
    bulk_events(vendor_head, 3000)
    large = (_queries(bob_client, tenant_url), _queries(alice_client, vendor_url))
    assert large == small
    page = bob_client.get(tenant_url).context["page"]
    deep = f"{tenant_url}?cursor={page.next_cursor}"
    assert _queries(bob_client, deep) == small[0]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="plans are checked on PostgreSQL (CI)"
)
@pytest.mark.slow
def test_pages_are_served_from_their_indexes_on_postgresql(
    globex: Any, acme: Any, other_tenant: Any
) -> None:
    head = record(action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=globex).chain
    other = record(
        action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=other_tenant
    ).chain
    with connection.cursor() as cursor:
        for chain in (head, other):
            cursor.execute(
                """
                INSERT INTO audit_auditevent (event_id, chain_id, seq, time, action, actor_kind,
                    actor_id, actor_label, vendor_public_id, tenant_public_id, tenant_ref,
                    target_type, target_id, outcome, ip, user_agent, request_id, data,
                    vendor_visible, prev_hash, hash)
                SELECT gen_random_uuid(), %s, g, now() - make_interval(secs => 100000 - g),
                    'tenant.viewed', 'system', '', '', %s, %s, '', '', '', 'success', '', '', '',
                    '{}'::jsonb, g %% 4 = 0, '', ''
                FROM generate_series(10, 50000) AS g
                """,
                [chain.pk, chain.vendor_public_id, chain.tenant_public_id],
            )
        cursor.execute("ANALYZE audit_auditevent")
    cursor_token = tenant_page(
        events=tenant_events(tenant=globex, filters=AuditFilters()), cursor=None
    ).next_cursor
    deep_tenant = tenant_events(tenant=globex, filters=AuditFilters()).filter(seq__lt=25000)[:51]
    plan = deep_tenant.explain()
    assert "audit_event_chain_seq" in plan and "Seq Scan" not in plan and "Sort" not in plan, plan
    assert cursor_token
    vendor_first = vendor_events(vendor=acme, filters=AuditFilters())[:51]
    plan = vendor_first.explain()
    assert "audit_vendor_visible_time" in plan and "Seq Scan" not in plan, plan
    page = vendor_page(events=vendor_events(vendor=acme, filters=AuditFilters()), cursor=None)
    with CaptureQueriesContext(connection) as ctx:
        vendor_page(
            events=vendor_events(vendor=acme, filters=AuditFilters()), cursor=page.next_cursor
        )
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + ctx.captured_queries[-1]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # A deep page seeks into the index by time instead of filtering its way down to it.
    index_cond = next(line for line in plan.splitlines() if "Index Cond" in line)
    assert "audit_vendor_visible_time" in plan and '"time" <=' in index_cond, plan
    deeper = vendor_page(
        events=vendor_events(vendor=acme, filters=AuditFilters()), cursor=page.next_cursor
    )
    assert page.events[-1].time >= deeper.events[0].time
    assert uuid.UUID(str(deeper.events[0].event_id))
