"""Writes the "## Broker sync propagation" section of docs/PERFORMANCE.md (only that section)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import perfdoc

HEADING = "## Broker sync propagation"
COMMAND = (
    "DATABASE_URL=postgres://postgres@127.0.0.1:5432/opencmk_bench "
    "REDIS_URL=redis://127.0.0.1:6379/7 .venv/bin/python bench/sync_propagation.py --write"
)


def render(r: dict[str, Any]) -> str:
    queries = ", ".join(f"{k}: {v}" for k, v in r["queries"].items())
    return "\n".join(
        [
            HEADING,
            "",
            f"`{COMMAND}` (PostgreSQL + Redis, gunicorn {r['workers']} gthread workers, "
            f"{r['cores']} cores shared by broker, PostgreSQL and the simulated proxies).",
            "",
            f"{r['tenants']:,} tenants, {r['proxies']} simulated proxies polling every "
            f"{r['interval']:.0f} s ±20 % with signed requests; a tenant signs a new policy "
            f"(new sealed config) once a second through `policy_submit`; {r['changes']} changes "
            f"x {r['proxies']} proxies = {r['deliveries']} deliveries measured "
            f"({r['missing']} missed, {r['errors']} poll errors).",
            "",
            "| seconds | p50 | p99 | max |",
            "|---|---|---|---|",
            f"| commit → first poll returning it (target ≤ 5) | {r['p50']:.2f} | {r['p99']:.2f} "
            f"| {r['max']:.2f} |",
            f"| baseline, same run: gap between a poller's polls (nominal {r['interval']:.0f} s) "
            f"| {r['gap_p50']:.2f} | {r['gap_p99']:.2f} | |",
            f"| delay the broker adds: seen - start of the first poll begun after the commit "
            f"| {r['delay_p50']:.2f} | {r['delay_p99']:.2f} | {r['delay_max']:.2f} |",
            "",
            f"Load average during the run: {r['load_average']:.1f} on {r['cores']} cores "
            "(other work on the machine inflates the gaps; the broker's own delay is the row to "
            "compare across runs).",
            "",
            f"Load while polling: {r['polls_per_s']:.1f} polls/s; broker (gunicorn) CPU "
            f"{r['broker_cpu'] * 100:.0f} % of one core; whole machine (broker, PostgreSQL, "
            f"Redis, the simulated proxies and the writer) {r['machine_cpu'] * 100:.0f} % busy; "
            f"PostgreSQL {r['pg_xacts_per_poll']:.1f} transactions (autocommit: one per "
            f"statement) and {r['pg_rows_per_poll']:.0f} rows read per poll, the writer's "
            "included.",
            "",
            f"SQL statements per request ({queries}). An unchanged poll (304) touches no "
            "database: the cluster key and the vendor's latest change id come from the shared "
            "cache (the change id tagged with a per-commit generation, so it is never stale "
            "after a commit); successful polls are audited as one `proxy.request` summary per "
            "cluster per minute, because one event per poll serialised every poll of a vendor "
            "on its audit chain head (in a first run that lock held polls to 8/s and p99 to "
            "17 s). A changes page costs the change-log read, the served-tenant filter, three "
            "bundle queries and the cluster statements.",
            "",
            f"Set-up: seeding {r['tenants']:,} tenants took {r['seed_s']:.1f} s; one full snapshot "
            f"({r['tenants']:,} bundles, pages of 500) took {r['snapshot_s']:.2f} s.",
            "",
        ]
    )


def write_section(path: Path, result: dict[str, Any]) -> None:
    perfdoc.write_section(HEADING, render(result), path)
