"""Audit-page pagination at 1,000 vs 1,000,000 events (PostgreSQL), run by hand:

    .venv/bin/python bench/audit_pagination.py            # prints the figures
    .venv/bin/python bench/audit_pagination.py --write    # and updates docs/PERFORMANCE.md

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
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import perfdoc  # noqa: E402

DB_NAME = "opencmk_audit_bench"
SECTION = "## Audit pages"


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


def _interleaved_ms(
    small: Callable[[], object], large: Callable[[], object], runs: int
) -> tuple[float, float]:
    """Median ms of each, timed alternately so that machine load hits both alike."""
    small(), large()  # warm caches and plans
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for fn, out in ((small, samples[0]), (large, samples[1])):
            start = time.perf_counter()
            fn()
            out.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples[0]), statistics.median(samples[1])


def _queries(org: Org) -> dict[str, Callable[[], object]]:
    from audit.selectors import AuditFilters, tenant_events, tenant_page, vendor_events, vendor_page

    none, proxy = AuditFilters(), AuditFilters(actor_kind="proxy_cluster")
    t_cursor = _encode([org.size // 2])
    v_cursor = _vendor_cursor_at(org, org.size // 2)
    tenant, vendor = org.tenant, org.vendor
    return {
        "tenant page 1": lambda: tenant_page(
            events=tenant_events(tenant=tenant, filters=none), cursor=None
        ),
        "tenant page deep": lambda: tenant_page(
            events=tenant_events(tenant=tenant, filters=none), cursor=t_cursor
        ),
        "tenant page 1, filter actor=proxy": lambda: tenant_page(
            events=tenant_events(tenant=tenant, filters=proxy), cursor=None
        ),
        "vendor page 1": lambda: vendor_page(
            events=vendor_events(vendor=vendor, filters=none), cursor=None
        ),
        "vendor page deep": lambda: vendor_page(
            events=vendor_events(vendor=vendor, filters=none), cursor=v_cursor
        ),
    }


def _encode(parts: list[Any]) -> str:
    from audit.selectors import _encode as encode

    return encode(parts)


def _vendor_cursor_at(org: Org, seq: int) -> str:
    from audit.models import AuditEvent

    event = AuditEvent.objects.filter(chain=org.head, seq=seq).first()
    assert event is not None
    return _encode([event.time.isoformat(), str(event.event_id)])


@dataclass
class Org:
    vendor: Any
    tenant: Any
    head: Any
    size: int


def _org(name: str, size: int) -> Org:
    """A vendor with two tenant chains of ``size`` events each."""
    from audit.actors import Actor
    from audit.services import record
    from tenants.models import Tenant
    from vendors.models import Vendor

    vendor = Vendor.objects.create(name=name)
    heads = []
    for tenant_id in ("bench", "other"):
        tenant = Tenant.objects.create(vendor=vendor, tenant_id=tenant_id, name=tenant_id)
        heads.append(
            (
                tenant,
                record(
                    action="tenant.viewed", actor=Actor.system(), vendor=vendor, tenant=tenant
                ).chain,
            )
        )
        _fill(heads[-1][1], 2, size)
    return Org(vendor, heads[0][0], heads[0][1], size)


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
    doc = ROOT / "docs" / "PERFORMANCE.md"
    section = (
        f"{SECTION}\n\nMeasured with `{command}` on PostgreSQL (median of repeated runs; "
        "pages of 50, two tenant chains of the given size, a third of the events vendor-visible). "
        "The ratio is large/small in the same run, timed alternately (two vendors in one "
        "database, one with small chains, one with large) so machine load hits both alike. The "
        "absolute figures include building the 50 model instances in Python; the point is the "
        "ratio: a page costs the same at a million events.\n\n" + table + "\n"
    )
    perfdoc.write_section(SECTION, section, doc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--write", action="store_true", help="update docs/PERFORMANCE.md")
    args = parser.parse_args()
    _setup(args.server)
    try:
        small, large = _org("Small vendor", args.small), _org("Large vendor", args.large)
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE audit_auditevent")
        large_queries = _queries(large)
        results: dict[int, dict[str, float]] = {args.small: {}, args.large: {}}
        for name, small_fn in _queries(small).items():
            s_ms, l_ms = _interleaved_ms(small_fn, large_queries[name], args.runs)
            results[args.small][name], results[args.large][name] = s_ms, l_ms
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
