"""Audit-page pagination at 1,000 vs 1,000,000 events (PostgreSQL), run by hand:

    .venv/bin/python bench/audit_pagination.py            # prints the figures
    .venv/bin/python bench/audit_pagination.py --write    # and updates docs/audit.md

Creates (and at the end drops) the database ``opencmk_audit_bench`` on the local PostgreSQL
(``postgres://postgres@127.0.0.1:5432``, override with ``--server``). Measures the page queries
of ``audit.selectors`` — the tenant page (keyset by seq) and the vendor page (keyset by time,
event_id) — first page and a page deep in the log, median of many runs, at 1,000 events and again
after growing the same chains to 1,000,000. The ratio large/small is what matters: ~1 means the
page cost does not depend on the size of the log.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = "opencmk_audit_bench"
SECTION = "## Performance"


def _admin(server: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def _setup(server: str) -> None:
    _admin(server, f"DROP DATABASE IF EXISTS {DB_NAME}")
    _admin(server, f"CREATE DATABASE {DB_NAME}")
    os.environ["DATABASE_URL"] = f"{server}/{DB_NAME}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "broker.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _fill(head: Any, first: int, last: int) -> None:
    """Rows first..last in the chain of ``head`` (inserts are allowed by the triggers)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO audit_auditevent (event_id, chain_id, seq, time, action, actor_kind,
                actor_id, actor_label, vendor_public_id, tenant_public_id, tenant_ref,
                target_type, target_id, outcome, ip, user_agent, request_id, data,
                vendor_visible, prev_hash, hash)
            SELECT gen_random_uuid(), %s, g,
                timestamptz '2026-01-01' + make_interval(secs => g * 0.5),
                (ARRAY['tenant.viewed','kms_config.sealed','proxy.bundle_fetched'])[g %% 3 + 1],
                (ARRAY['user','system','proxy_cluster'])[g %% 3 + 1], 'actor', 'label', %s, %s,
                'bench', 'kms_configs.kmsconfig', 'cfg', 'success', '203.0.113.9', 'bench/1',
                md5(g::text), jsonb_build_object('n', g), g %% 3 = 2, repeat('0', 64),
                repeat('0', 64)
            FROM generate_series(%s, %s) AS g
            """,
            [head.pk, head.vendor_public_id, head.tenant_public_id, first, last],
        )
        cursor.execute("ANALYZE audit_auditevent")


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm the cache and the plan
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def _measure(tenant: Any, vendor: Any, size: int, runs: int) -> dict[str, float]:
    from audit.selectors import AuditFilters, tenant_events, tenant_page, vendor_events, vendor_page

    none = AuditFilters()
    mid_tenant = tenant_page(events=tenant_events(tenant=tenant, filters=none), cursor=None)
    deep_cursor_t = _cursor_at_seq(size // 2)
    first_v = vendor_page(events=vendor_events(vendor=vendor, filters=none), cursor=None)
    deep_cursor_v = _vendor_cursor_at(vendor, size // 2)
    assert mid_tenant.events and first_v.events
    return {
        "tenant page 1": _median_ms(
            lambda: tenant_page(events=tenant_events(tenant=tenant, filters=none), cursor=None),
            runs,
        ),
        "tenant page deep": _median_ms(
            lambda: tenant_page(
                events=tenant_events(tenant=tenant, filters=none), cursor=deep_cursor_t
            ),
            runs,
        ),
        "tenant page, filter actor=proxy": _median_ms(
            lambda: tenant_page(
                events=tenant_events(
                    tenant=tenant, filters=AuditFilters(actor_kind="proxy_cluster")
                ),
                cursor=None,
            ),
            runs,
        ),
        "vendor page 1": _median_ms(
            lambda: vendor_page(events=vendor_events(vendor=vendor, filters=none), cursor=None),
            runs,
        ),
        "vendor page deep": _median_ms(
            lambda: vendor_page(
                events=vendor_events(vendor=vendor, filters=none), cursor=deep_cursor_v
            ),
            runs,
        ),
    }


def _cursor_at_seq(seq: int) -> str:
    from audit.selectors import _encode

    return _encode([seq])


def _vendor_cursor_at(vendor: Any, n: int) -> str:
    from audit.models import AuditEvent
    from audit.selectors import _encode

    event = AuditEvent.objects.filter(vendor_public_id=vendor.public_id, seq=n).first()
    assert event is not None
    return _encode([event.time.isoformat(), str(event.event_id)])


def _world() -> tuple[Any, Any, Any, Any]:
    from audit.actors import Actor
    from audit.services import record
    from tenants.models import Tenant
    from vendors.models import Vendor

    vendor = Vendor.objects.create(name="Bench vendor")
    tenant = Tenant.objects.create(vendor=vendor, tenant_id="bench", name="Bench")
    other = Tenant.objects.create(vendor=vendor, tenant_id="other", name="Other")
    head = record(action="tenant.viewed", actor=Actor.system(), vendor=vendor, tenant=tenant).chain
    other_head = record(
        action="tenant.viewed", actor=Actor.system(), vendor=vendor, tenant=other
    ).chain
    return vendor, tenant, head, other_head


def _table(results: dict[int, dict[str, float]], small: int, large: int) -> str:
    lines = [
        f"| query | {small:,} events (ms) | {large:,} events (ms) | ratio |",
        "|---|---|---|---|",
    ]
    for name, small_ms in results[small].items():
        large_ms = results[large][name]
        lines.append(f"| {name} | {small_ms:.3f} | {large_ms:.3f} | {large_ms / small_ms:.2f} |")
    return "\n".join(lines)


def _write(table: str, command: str) -> None:
    doc = ROOT / "docs" / "audit.md"
    text = doc.read_text()
    section = (
        f"{SECTION}\n\nMeasured with `{command}` on PostgreSQL (median of repeated runs; "
        "pages of 50, two tenant chains of the given size, a third of the events vendor-visible). "
        "The ratio is large/small in the same run.\n\n" + table + "\n"
    )
    if SECTION in text:
        text = re.sub(rf"{re.escape(SECTION)}\n.*?(?=\n## |\Z)", section, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--write", action="store_true", help="update docs/audit.md")
    args = parser.parse_args()
    _setup(args.server)
    try:
        vendor, tenant, head, other_head = _world()
        results = {}
        for target, start in ((args.small, 2), (args.large, args.small + 1)):
            for chain in (head, other_head):
                _fill(chain, start, target)
            results[target] = _measure(tenant, vendor, target, args.runs)
        table = _table(results, args.small, args.large)
        print(table)
        if args.write:
            _write(table, "python bench/audit_pagination.py --write")
    finally:
        from django.db import connections

        connections.close_all()
        _admin(args.server, f"DROP DATABASE IF EXISTS {DB_NAME}")


if __name__ == "__main__":
    main()
