"""Broker sync propagation benchmark (issue 6 item 2): 10,000 tenants, 50 polling proxies.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opencmk_bench \\
    REDIS_URL=redis://127.0.0.1:6379/7 .venv/bin/python bench/sync_propagation.py

It (re)creates the database named in DATABASE_URL (never use a database you care about),
migrates it, bulk-seeds one vendor with N tenants (valid statements, sealed configs, policies
and change-log rows), starts gunicorn on a free loopback port, runs one real snapshot, then
starts P simulated proxies (threads) that poll ``/api/v1/proxy/bundles`` every ~2 s ±20 % with
signed requests, exactly as tenant_security_proxy's BrokerClient does. A writer signs a new
policy for a random tenant through the real ``policy_submit`` once a second. For every
(proxy, change) it measures commit → first poll that returns it; it also reports broker and
PostgreSQL CPU and queries per poll. Figures go to the "## Broker sync propagation" section of
docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "broker.settings")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

from bench.sync_seed import recreate_database, seed  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / ticks


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _pg_stats() -> tuple[int, int]:
    """(transactions, rows read) of the current database so far."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT xact_commit + xact_rollback, tup_returned + tup_fetched"
            " FROM pg_stat_database WHERE datname = current_database()"
        )
        xacts, rows = cursor.fetchone()
    return int(xacts), int(rows)


def _pids(pattern: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


class Poller(threading.Thread):
    """One simulated proxy replica: signed incremental polls with jitter (PR-11)."""

    def __init__(self, bench: Bench, cursor: str, etag: str) -> None:
        super().__init__(daemon=True)
        self.bench, self.cursor, self.etag = bench, cursor, etag
        self.polls = self.not_modified = self.errors = 0
        self.starts: list[float] = []  # wall-clock start of every request

    def run(self) -> None:
        time.sleep(random.uniform(0, self.bench.interval))
        while not self.bench.stop.is_set():
            # A fresh connection per poll, as the proxy's urllib-based BrokerClient makes.
            conn = http.client.HTTPConnection("127.0.0.1", self.bench.port, timeout=30)
            try:
                self.poll(conn)
            except (OSError, http.client.HTTPException):
                self.errors += 1
            finally:
                conn.close()
            time.sleep(self.bench.interval * random.uniform(0.8, 1.2))

    def poll(self, conn: http.client.HTTPConnection) -> None:
        while True:
            query = urllib.parse.urlencode({"limit": "500", "cursor": self.cursor})
            self.starts.append(time.time())
            status, headers, body = self.bench.get(
                conn, "/api/v1/proxy/bundles?" + query, {"If-None-Match": self.etag}
            )
            self.polls += 1
            now = time.time()
            if status == 304:
                self.not_modified += 1
                return
            if status != 200:
                self.errors += 1
                return
            page = json.loads(body)
            for bundle in page["tenants"]:
                payload = json.loads(base64.b64decode(bundle["policy"]["payload"]))
                self.bench.seen(bundle["tenant_id"], payload["version"], now, self.starts)
            self.cursor, self.etag = page["next_cursor"], headers.get("ETag", self.etag)
            if not page["has_more"]:
                return


class Bench:
    def __init__(self, port: int, cluster_id: str, signing_key: Any, interval: float) -> None:
        self.port, self.cluster_id, self.signing_key = port, cluster_id, signing_key
        self.interval = interval
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.commits: dict[tuple[str, int], float] = {}
        self.latencies: dict[tuple[str, int], list[float]] = {}
        # Seen time minus the start of the poller's first poll begun after the commit: the
        # delay the broker adds, free of how long the poller happened to wait for its turn.
        self.broker_delays: list[float] = []

    def get(
        self, conn: http.client.HTTPConnection, path: str, extra: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        from tenant_security_proxy.broker_client import signed_message

        ts, nonce = str(int(time.time())), os.urandom(16).hex()
        sig = self.signing_key.sign(
            signed_message("GET", path, self.cluster_id, ts, nonce, b"")
        ).signature
        headers = {
            "X-OpenCMK-Cluster": self.cluster_id,
            "X-OpenCMK-Timestamp": ts,
            "X-OpenCMK-Nonce": nonce,
            "X-OpenCMK-Signature": base64.b64encode(sig).decode(),
        } | extra
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()

    def committed(self, tenant_id: str, version: int, at: float) -> None:
        with self.lock:
            self.commits[(tenant_id, version)] = at
            self.latencies[(tenant_id, version)] = []

    def seen(self, tenant_id: str, version: int, at: float, starts: list[float]) -> None:
        with self.lock:
            committed = self.commits.get((tenant_id, version))
            if committed is None:
                return
            self.latencies[(tenant_id, version)].append(at - committed)
            # The poll that returned it may have started before the commit: then the broker
            # added at most that poll's own duration after the commit.
            first = next((s for s in starts if s >= committed), committed)
            self.broker_delays.append(at - first)


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _queries_per_poll(world: Any) -> dict[str, int]:
    """Queries of a 304 poll (cache warm and cold) and of a one-tenant changes page."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.sync_seed import signed_headers

    def count(path: str, **extra: str) -> tuple[int, Any]:
        with CaptureQueriesContext(connection) as ctx:
            response = Client().get(path, **signed_headers(world, path), **extra)
        return len(ctx.captured_queries), response

    path = f"/api/v1/proxy/bundles?limit=500&cursor=c:{world.seq}"
    count(path, HTTP_IF_NONE_MATCH=f'"c:{world.seq}"')  # warm the caches
    warm, response = count(path, HTTP_IF_NONE_MATCH=f'"c:{world.seq}"')
    assert response.status_code == 304, response.status_code
    cache.clear()
    cold, _ = count(path, HTTP_IF_NONE_MATCH=f'"c:{world.seq}"')
    world.change_one()
    changed, response = count(path, HTTP_IF_NONE_MATCH=f'"c:{world.seq}"')
    assert response.status_code == 200 and len(response.json()["tenants"]) == 1
    return {"304 (caches warm)": warm, "304 (caches cold)": cold, "changes (1 tenant)": changed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--proxies", type=int, default=50)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="update docs/PERFORMANCE.md")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit(
            "Set DATABASE_URL to a PostgreSQL database to (re)create, e.g. opencmk_bench"
        )
    recreate_database(os.environ["DATABASE_URL"])
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True)

    import django

    django.setup()
    t0 = time.perf_counter()
    world = seed(args.tenants)
    seed_s = time.perf_counter() - t0
    print(f"seeded {args.tenants} tenants in {seed_s:.1f} s", flush=True)
    port = _free_port()
    gunicorn = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "broker.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        start_new_session=True,
    )
    try:
        return _run(args, world, port, gunicorn, seed_s)
    finally:
        gunicorn.terminate()
        gunicorn.wait(15)


def _run(args: Any, world: Any, port: int, gunicorn: Any, seed_s: float) -> int:
    bench = Bench(port, world.cluster_id, world.cluster_keys.signing_key, args.interval)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for _ in range(100):
        try:
            conn.request("GET", "/accounts/login/")
            conn.getresponse().read()
            break
        except OSError:
            conn.close()
            time.sleep(0.2)
    # One full snapshot as a starting proxy does; the others start from its cursor.
    t0, cursor, etag, tenants = time.perf_counter(), None, "", 0
    while True:
        query = urllib.parse.urlencode({"limit": "500"} | ({"cursor": cursor} if cursor else {}))
        status, headers, body = bench.get(conn, "/api/v1/proxy/bundles?" + query, {})
        assert status == 200, (status, body[:200])
        page = json.loads(body)
        tenants += len(page["tenants"])
        cursor, etag = page["next_cursor"], headers["ETag"]
        if not page["has_more"]:
            break
    snapshot_s = time.perf_counter() - t0
    assert tenants == args.tenants, tenants
    print(f"snapshot of {tenants} tenants: {snapshot_s:.2f} s", flush=True)
    pollers = [Poller(bench, cursor, etag) for _ in range(args.proxies)]
    for poller in pollers:
        poller.start()
    time.sleep(args.interval * 1.5)
    broker_pids = _pids(f"127.0.0.1:{port}")
    cpu0, wall0 = _cpu_seconds(broker_pids), time.perf_counter()
    busy0, (xacts0, rows0) = _machine_busy(), _pg_stats()
    polls0 = sum(p.polls for p in pollers)
    deadline = time.monotonic() + args.duration
    while time.monotonic() < deadline:
        tenant_id, version = world.change_one()
        bench.committed(tenant_id, version, time.time())
        time.sleep(1.0)
    time.sleep(args.interval * 1.3 + 1)  # let the last change reach every poller
    wall = time.perf_counter() - wall0
    cpu = _cpu_seconds(broker_pids) - cpu0
    busy1, (xacts1, rows1) = _machine_busy(), _pg_stats()
    machine = (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1])
    polls = sum(p.polls for p in pollers) - polls0
    bench.stop.set()
    latencies = [v for values in bench.latencies.values() for v in values]
    missing = sum(args.proxies - len(v) for v in bench.latencies.values())
    errors = sum(p.errors for p in pollers)
    queries = _queries_per_poll(world)
    gaps = [
        b - a
        for p in pollers
        for a, b in zip(p.starts, p.starts[1:], strict=False)
        if b - a > 0.5  # continuation pages of one poll are not gaps
    ]
    result = {
        "tenants": args.tenants,
        "proxies": args.proxies,
        "interval": args.interval,
        "changes": len(bench.commits),
        "deliveries": len(latencies),
        "missing": missing,
        "errors": errors,
        "p50": statistics.median(latencies),
        "p99": _percentile(latencies, 99),
        "max": max(latencies),
        "gap_p50": statistics.median(gaps),
        "gap_p99": _percentile(gaps, 99),
        "delay_p50": statistics.median(bench.broker_delays),
        "delay_p99": _percentile(bench.broker_delays, 99),
        "delay_max": max(bench.broker_delays),
        "load_average": os.getloadavg()[0],
        "polls_per_s": polls / wall,
        "broker_cpu": cpu / wall,
        "machine_cpu": machine,
        "pg_xacts_per_poll": (xacts1 - xacts0) / max(1, polls),
        "pg_rows_per_poll": (rows1 - rows0) / max(1, polls),
        "seed_s": seed_s,
        "snapshot_s": snapshot_s,
        "queries": queries,
        "workers": args.workers,
        "cores": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    if args.write:
        from bench.sync_report import write_section

        write_section(ROOT / "docs" / "PERFORMANCE.md", result)
    return 0 if result["max"] <= 5.0 and missing == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
