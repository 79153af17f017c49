"""Tenant Security Client benchmarks: local crypto against raw AESGCM, and latency via the proxy.

    .venv/bin/python bench/client_bench.py              # everything; starts its own proxy stack
    .venv/bin/python bench/client_bench.py --no-proxy   # local crypto only
    .venv/bin/python bench/client_bench.py --write      # and rewrite our docs/PERFORMANCE.md part
    .venv/bin/python bench/client_bench.py --proxy-url http://127.0.0.1:7777 \\
        --api-key "$TSP_API_KEY" --tenant demo-tenant   # against an already running proxy

Ratios are SDK throughput / raw throughput measured in the same run (1.0 = no overhead).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

from tenant_security_client import (  # noqa: E402
    AsyncTenantSecurityClient,
    CachedKey,
    RequestMetadata,
    TenantSecurityClient,
)
from tenant_security_client import _format as fmt  # noqa: E402

SECTION = "## Tenant Security Client"


def pair_us(
    raw: Callable[[], object], sdk: Callable[[], object], number: int, repeat: int = 9
) -> tuple[float, float]:
    """Best per-call µs of each, runs interleaved so both see the same load on a shared machine."""
    raw_runs, sdk_runs = [], []
    for _ in range(repeat):
        raw_runs.append(timeit.timeit(raw, number=number))
        sdk_runs.append(timeit.timeit(sdk, number=number))
    return min(raw_runs) / number * 1e6, min(sdk_runs) / number * 1e6


def crypto_rows() -> list[tuple[str, float, float]]:
    key_bytes = os.urandom(32)
    raw = AESGCM(key_bytes)
    meta = RequestMetadata(tenant_id="bench-tenant", requesting_id="bench")
    cached = CachedKey(
        fmt.DataKey(bytearray(key_bytes)), "EDEK", meta, lambda call: None,
        max_age=3600, max_uses=2**24,
    )  # fmt: skip
    rows = []
    for label, size, number in (("1 KiB", 1024, 20000), ("1 MiB", 1 << 20, 200)):
        plaintext = os.urandom(size)
        iv = os.urandom(12)
        raw_ct = raw.encrypt(iv, plaintext, None)
        doc = cached.encrypt({"f": plaintext})
        rows.append((f"encrypt {label} (document API)", *pair_us(
            lambda: raw.encrypt(os.urandom(12), plaintext, None),  # noqa: B023
            lambda: cached.encrypt({"f": plaintext}),  # noqa: B023
            number,
        )))  # fmt: skip
        rows.append((f"decrypt {label} (document API)", *pair_us(
            lambda: raw.decrypt(iv, raw_ct, None),  # noqa: B023
            lambda: cached.decrypt(doc),  # noqa: B023
            number,
        )))  # fmt: skip
        raw_out = bytearray(size + 16)
        sdk_out = bytearray(cached.encrypted_size(size))
        cached.encrypt_into(plaintext, sdk_out)
        raw_pt, sdk_pt = bytearray(size), bytearray(size)
        rows.append((f"encrypt_into {label} (reused buffer)", *pair_us(
            lambda: raw.encrypt_into(os.urandom(12), plaintext, None, raw_out),  # noqa: B023
            lambda: cached.encrypt_into(plaintext, sdk_out),  # noqa: B023
            number,
        )))  # fmt: skip
        rows.append((f"decrypt_into {label} (reused buffer)", *pair_us(
            lambda: raw.decrypt_into(iv, raw_ct, None, raw_pt),  # noqa: B023
            lambda: cached.decrypt_into(sdk_out, sdk_pt),  # noqa: B023
            number,
        )))  # fmt: skip
    return rows


def start_proxy_host() -> tuple[subprocess.Popen[str], dict[str, str]]:
    host = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "client_proxy_host.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    assert host.stdout is not None
    return host, json.loads(host.stdout.readline())


def latencies(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1e6)
    return out


async def alatencies(fn: Callable[[], Awaitable[object]], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - start) * 1e6)
    return out


def summary(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    return (
        statistics.median(ordered),
        ordered[int(len(ordered) * 0.99) - 1],
        statistics.mean(ordered),
    )


def raw_wrap_latencies(url: str, api_key: str, tenant: str, n: int) -> list[float]:
    """The floor: the same wrap POST on a bare keep-alive http.client connection, no SDK."""
    import http.client
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port)
    body = json.dumps(RequestMetadata(tenant_id=tenant, requesting_id="bench").to_body()).encode()
    headers = {"Authorization": f"cmk {api_key}", "Content-Type": "application/json"}

    def once() -> None:
        conn.request("POST", "/api/1/document/wrap", body, headers)
        conn.getresponse().read()

    try:
        return latencies(once, n)
    finally:
        conn.close()


async def concurrent_rate(fn: Callable[[], Awaitable[object]], total: int, width: int) -> float:
    queue = iter(range(total))

    async def worker() -> None:
        for _ in queue:
            await fn()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(width)))
    return total / (time.perf_counter() - start)


def proxy_rows(url: str, api_key: str, tenant: str, unleased: str | None, n: int) -> dict[str, Any]:
    doc = {"f": os.urandom(1024)}
    meta = RequestMetadata(tenant_id=tenant, requesting_id="bench")
    rows: dict[str, Any] = {}
    rows["raw http.client wrap POST (no SDK)"] = summary(
        raw_wrap_latencies(url, api_key, tenant, n)
    )
    with TenantSecurityClient(url, api_key, allow_insecure_http=True) as client:
        client.encrypt(doc, meta)  # warm the pool and the leased key
        rows["sync encrypt 1 KiB"] = summary(latencies(lambda: client.encrypt(doc, meta), n))
        encrypted = client.encrypt(doc, meta)
        rows["sync decrypt 1 KiB"] = summary(latencies(lambda: client.decrypt(encrypted, meta), n))
        big = {"f": os.urandom(1 << 20)}
        rows["sync encrypt 1 MiB"] = summary(latencies(lambda: client.encrypt(big, meta), n // 5))
        if unleased:
            umeta = RequestMetadata(tenant_id=unleased, requesting_id="bench")
            rows["sync encrypt 1 KiB, unleased (KMS call each)"] = summary(
                latencies(lambda: client.encrypt(doc, umeta), max(20, n // 10))
            )
        rates = asyncio.run(_async_part(url, api_key, doc, meta, client, n, rows))
    rows["_rates"] = rates
    return rows


async def _async_part(
    url: str, api_key: str, doc: dict[str, bytes], meta: RequestMetadata,
    sync_client: TenantSecurityClient, n: int, rows: dict[str, Any],
) -> dict[str, float]:  # fmt: skip
    async with AsyncTenantSecurityClient(url, api_key, allow_insecure_http=True, pool_size=64) as c:
        await c.encrypt(doc, meta)
        rows["async (asyncio streams) encrypt 1 KiB"] = summary(
            await alatencies(lambda: c.encrypt(doc, meta), n)
        )
        rows["async via to_thread(sync) encrypt 1 KiB"] = summary(
            await alatencies(lambda: asyncio.to_thread(sync_client.encrypt, doc, meta), n)
        )
        total = 4 * n
        streams = await concurrent_rate(lambda: c.encrypt(doc, meta), total, 32)
        offload = await concurrent_rate(
            lambda: asyncio.to_thread(sync_client.encrypt, doc, meta), total, 32
        )
    return {"async streams, 32 concurrent": streams, "to_thread(sync), 32 concurrent": offload}


def render(crypto: list[tuple[str, float, float]], proxy: dict[str, Any] | None) -> str:
    lines = [
        SECTION,
        "",
        f"Measured by `bench/client_bench.py` on {time.strftime('%Y-%m-%d')}, "
        f"Python {platform.python_version()}, {os.cpu_count()} cores "
        "(shared machine; crypto: best of 9 interleaved runs).",
        "Reproduce: `.venv/bin/python bench/client_bench.py --write`.",
        "",
        "### Local crypto with a cached key vs raw `AESGCM` (same run)",
        "",
        "Ratio = SDK throughput / raw throughput (targets: ≥ 0.5 at 1 KiB, ≥ 0.9 at 1 MiB).",
        "",
        "| operation | raw AESGCM µs | SDK µs | ratio |",
        "|---|---:|---:|---:|",
    ]
    for name, raw_us, sdk_us in crypto:
        lines.append(f"| {name} | {raw_us:.2f} | {sdk_us:.2f} | {raw_us / sdk_us:.2f} |")
    lines += [
        "",
        "At 1 KiB AES-GCM itself takes about a microsecond, so these ratios measure the SDK's",
        "fixed Python work per call: the use-count and expiry check, comparing the field's header",
        "with the key's own (a byte-identical header skips parsing and signature verification;",
        "any other header is parsed and verified), slicing IV and ciphertext, and building the",
        "result dict and document object. The raw baseline does none of that. Figures on this",
        "shared machine move by ±0.1 between runs. Raw decrypt has no IV to draw, so it is the",
        "hardest baseline: a loop with every check removed (only the two slices, the result dict",
        "and the `PlaintextDocument`) measured ~0.5 of it by itself, so document-API decrypt",
        "at 1 KiB stays below 0.5 unless the public result types change.",
    ]
    if proxy:
        rates = proxy.pop("_rates")
        lines += [
            "",
            "### End to end through the proxy (leased key, loopback, proxy in a child process)",
            "",
            "| call | p50 µs | p99 µs | mean µs |",
            "|---|---:|---:|---:|",
        ]
        for name, (p50, p99, mean) in proxy.items():
            lines.append(f"| {name} | {p50:.0f} | {p99:.0f} | {mean:.0f} |")
        lines += ["", "| async concurrency (1 KiB encrypt) | ops/s |", "|---|---:|"]
        for name, rate in rates.items():
            lines.append(f"| {name} | {rate:.0f} |")
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    path = ROOT / "docs" / "PERFORMANCE.md"
    current = path.read_text() if path.exists() else "# Performance\n\n"
    if SECTION in current:
        before, rest = current.split(SECTION, 1)
        after = rest[rest.find("\n## ") + 1 :] if "\n## " in rest else ""
        current = before + text + ("\n" + after if after else "")
    else:
        current = current.rstrip("\n") + "\n\n" + text
    path.write_text(current)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-proxy", action="store_true")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--proxy-url")
    parser.add_argument("--api-key", default=os.environ.get("TSP_API_KEY"))
    parser.add_argument("--tenant")
    parser.add_argument("-n", type=int, default=1000)
    args = parser.parse_args()
    crypto = crypto_rows()
    proxy = None
    if not args.no_proxy:
        if args.proxy_url:
            proxy = proxy_rows(args.proxy_url, args.api_key, args.tenant, None, args.n)
        else:
            host, info = start_proxy_host()
            try:
                proxy = proxy_rows(
                    info["url"], info["api_key"], info["tenant_leased"],
                    info["tenant_unleased"], args.n,
                )  # fmt: skip
            finally:
                assert host.stdin is not None
                host.stdin.close()
                host.wait(timeout=60)
    text = render(crypto, proxy)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
