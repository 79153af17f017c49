"""Tenant Security Client benchmarks: local crypto against raw AESGCM, and latency via the proxy.

    .venv/bin/python bench/client_bench.py              # everything; starts its own proxy stack
    .venv/bin/python bench/client_bench.py --no-proxy   # local crypto only
    .venv/bin/python bench/client_bench.py --write      # and rewrite our docs/PERFORMANCE.md part
    .venv/bin/python bench/client_bench.py --proxy-url http://127.0.0.1:7777 \\
        --api-key "$TSP_API_KEY" --tenant demo-tenant   # against an already running proxy

    .venv/bin/python bench/client_bench.py --callgrind  # add instruction counts (valgrind)

Ratios are SDK throughput / raw throughput measured in the same run (1.0 = no overhead), against
two raw AESGCM baselines: the bare primitive call and a storable iv||ciphertext||tag message.
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

from bench import perfdoc  # noqa: E402
from tenant_security_client import (  # noqa: E402
    AsyncTenantSecurityClient,
    CachedKey,
    RequestMetadata,
    TenantSecurityClient,
)
from tenant_security_client import _format as fmt  # noqa: E402

SECTION = "## Tenant Security Client"
REPEAT = 15  # best-of runs per timing: the minimum is what survives a shared machine


Row = tuple[str, float, float, float]  # operation, raw primitive µs, raw message µs, SDK µs
Case = tuple[list[Callable[[], object]], int]  # primitive, message and SDK call; calls per run
COLUMNS = ("primitive", "message", "sdk")


def best_us(fns: list[Callable[[], object]], number: int, repeat: int = REPEAT) -> list[float]:
    """Best per-call µs of each, runs interleaved so all see the same load on a shared machine."""
    runs: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, out in zip(fns, runs, strict=True):
            out.append(timeit.timeit(fn, number=number))
    return [min(out) / number * 1e6 for out in runs]


def row(name: str, fns: list[Callable[[], object]], number: int) -> Row:
    """One table row: primitive baseline, message baseline and SDK, measured together."""
    primitive, message, sdk = best_us(fns, number)
    return name, primitive, message, sdk


def crypto_cases() -> dict[str, Case]:
    """Cached-key SDK calls against two raw `AESGCM` baselines, for 1 KiB and 1 MiB.

    primitive: the bare AEAD call; its encrypt output lacks the IV, its decrypt input is
    pre-split outside the timed call, so neither is a message that could be stored.
    message: raw AESGCM producing/consuming a self-contained ``iv || ciphertext || tag``, the
    least a caller must do to store and later open a value (the SDK's output also carries its
    IV, plus the signed v3 header). Below 64 KiB it copies as the plain expressions do; at
    1 MiB it writes/reads in place, as the SDK does there.
    """
    key_bytes = os.urandom(32)
    raw = AESGCM(key_bytes)
    meta = RequestMetadata(tenant_id="bench-tenant", requesting_id="bench")
    cached = CachedKey(
        fmt.DataKey(bytearray(key_bytes)), "EDEK", meta, lambda call: None,
        max_age=3600, max_uses=2**24,
    )  # fmt: skip
    cases: dict[str, Case] = {}
    for label, size, number in (("1 KiB", 1024, 20000), ("1 MiB", 1 << 20, 200)):
        for name, fns in size_cases(raw, cached, size).items():
            cases[f"{name} {label} ({'document API' if '_' not in name else 'reused buffer'})"] = (
                fns,
                number,
            )
    return cases


def size_cases(raw: AESGCM, cached: CachedKey, size: int) -> dict[str, list[Callable[[], object]]]:
    """The three calls of each operation for one size; every call is a closure of equal cost."""
    small = size < 64 * 1024
    urandom = os.urandom
    plaintext = urandom(size)
    iv = urandom(12)
    raw_ct = raw.encrypt(iv, plaintext, None)
    blob = iv + raw_ct  # a stored raw message
    doc = cached.encrypt({"f": plaintext})
    raw_out = bytearray(size + 16)
    msg_out = bytearray(size + 28)
    msg_tail = memoryview(msg_out)[12:]  # a reused buffer lets raw code keep this view
    sdk_out = bytearray(cached.encrypted_size(size))
    cached.encrypt_into(plaintext, sdk_out)
    raw_pt, msg_pt, sdk_pt = bytearray(size), bytearray(size), bytearray(size)

    # Separate small/large definitions: no size branch inside the timed call.
    if small:

        def msg_encrypt() -> bytes | bytearray:
            iv = urandom(12)
            return iv + raw.encrypt(iv, plaintext, None)

        def msg_decrypt() -> bytes:
            return raw.decrypt(blob[:12], blob[12:], None)

        def msg_decrypt_into() -> int:
            return raw.decrypt_into(blob[:12], blob[12:], None, msg_pt)

    else:

        def msg_encrypt() -> bytes | bytearray:
            iv = urandom(12)
            out = bytearray(size + 28)
            view = memoryview(out)
            view[:12] = iv
            raw.encrypt_into(iv, plaintext, None, view[12:])
            return out

        def msg_decrypt() -> bytes:
            view = memoryview(blob)
            return raw.decrypt(view[:12], view[12:], None)

        def msg_decrypt_into() -> int:
            view = memoryview(blob)
            return raw.decrypt_into(view[:12], view[12:], None, msg_pt)

    def msg_encrypt_into() -> None:
        iv = urandom(12)
        msg_out[:12] = iv
        raw.encrypt_into(iv, plaintext, None, msg_tail)

    return {
        "encrypt": [
            lambda: raw.encrypt(urandom(12), plaintext, None),
            msg_encrypt,
            lambda: cached.encrypt({"f": plaintext}),
        ],
        "decrypt": [
            lambda: raw.decrypt(iv, raw_ct, None),
            msg_decrypt,
            lambda: cached.decrypt(doc),
        ],
        "encrypt_into": [
            lambda: raw.encrypt_into(urandom(12), plaintext, None, raw_out),
            msg_encrypt_into,
            lambda: cached.encrypt_into(plaintext, sdk_out),
        ],
        "decrypt_into": [
            lambda: raw.decrypt_into(iv, raw_ct, None, raw_pt),
            msg_decrypt_into,
            lambda: cached.decrypt_into(sdk_out, sdk_pt),
        ],
    }


def crypto_rows() -> list[Row]:
    """Time every case: primitive, message and SDK interleaved, best of REPEAT runs."""
    return [row(name, fns, number) for name, (fns, number) in crypto_cases().items()]


def loop(name: str, column: str, count: int) -> None:
    """Call one case ``count`` times and nothing else, for instruction counting::

        valgrind --tool=callgrind --callgrind-out-file=/dev/null .venv/bin/python \\
            bench/client_bench.py --loop "decrypt 1 KiB (document API)" --column sdk --count 5000

    minus the same with ``--count 0``, divided by 5000, is the instructions per call.
    """
    fns, _ = crypto_cases()[name]
    fn = fns[COLUMNS.index(column)]
    for _ in range(count):
        fn()


def callgrind_counts(count: int = 5000) -> dict[str, list[int]]:
    """Instructions per call of every 1 KiB case, by callgrind (repeatable, unlike timings)."""

    def total(name: str, column: str, n: int) -> int:
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
             __file__, "--loop", name, "--column", column, "--count", str(n)],
            capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "0"},
        )  # fmt: skip
        return int(out.stderr.split("Collected : ")[1].split()[0])

    names = [name for name in crypto_cases() if "1 KiB" in name]
    empty = total(names[0], "sdk", 0)
    return {
        name: [(total(name, column, count) - empty) // count for column in COLUMNS]
        for name in names
    }


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


def verdict(crypto: list[Row], column: int, label: str) -> str:
    """One sentence: which rows meet their target against one baseline column."""
    met: list[str] = []
    missed: list[str] = []
    for name, *times in crypto:
        ratio = times[column] / times[2]
        target = 0.5 if "1 KiB" in name else 0.9
        (met if ratio >= target else missed).append(f"{name.split(' (')[0]} {ratio:.2f}")
    if not missed:
        return f"- Against the **{label}** baseline every row meets its target."
    return (
        f"- Against the **{label}** baseline {len(met)} of {len(crypto)} rows meet their target; "
        f"below it: {', '.join(missed)}."
    )


def render(
    crypto: list[Row], proxy: dict[str, Any] | None, counts: dict[str, list[int]] | None = None
) -> str:
    lines = [
        SECTION,
        "",
        f"Measured by `bench/client_bench.py` on {time.strftime('%Y-%m-%d')}, "
        f"Python {platform.python_version()}, {os.cpu_count()} cores "
        f"(shared machine; crypto: best of {REPEAT} interleaved runs).",
        "Reproduce: `.venv/bin/python bench/client_bench.py --callgrind --write`"
        " (`--no-proxy` for the local crypto only).",
        "",
        "### Local crypto with a cached key vs raw `AESGCM` (same run)",
        "",
        "Ratio = SDK throughput / raw throughput (1.0 = no overhead; targets: ≥ 0.5 at 1 KiB,",
        "≥ 0.9 at 1 MiB). Two raw baselines, timed interleaved with the SDK call:",
        "",
        "- **primitive**: the bare AEAD call. Its encrypt output has no IV and its decrypt input",
        "  is split into IV and ciphertext before the timer starts, so neither is a value that",
        "  could be stored and opened again. This is the strict floor.",
        "- **message**: raw `AESGCM` producing or consuming a self-contained `iv || ciphertext ||",
        "  tag` (encrypt: `iv = os.urandom(12); iv + aes.encrypt(iv, pt, None)`; decrypt:",
        "  `aes.decrypt(blob[:12], blob[12:], None)`; `*_into` the same into reused buffers, the",
        "  raw side even keeping one memoryview of its output buffer across calls; at 1 MiB it",
        "  writes and reads in place through memoryviews, as the SDK does).",
        "",
        "| operation | primitive µs | message µs | SDK µs "
        "| ratio vs primitive | ratio vs message |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, primitive, message, sdk in crypto:
        lines.append(
            f"| {name} | {primitive:.2f} | {message:.2f} | {sdk:.2f} "
            f"| {primitive / sdk:.2f} | {message / sdk:.2f} |"
        )
    lines += [
        "",
        verdict(crypto, 1, "message"),
        verdict(crypto, 0, "primitive"),
        "",
        'The message baseline is the fair reading of "against raw `AESGCM`": the SDK\'s output',
        "is a complete stored value (v3 header with the signed tenant id, IV, ciphertext, tag)",
        "and its input is such a value, so the raw code it replaces must at least carry and",
        "split the IV too; a primitive ciphertext without its IV cannot be decrypted later. The",
        "primitive column stays in the table as the strict floor: the whole price of an SDK call.",
        "",
        "At 1 KiB AES-GCM itself takes about a microsecond, so these ratios measure fixed Python",
        "work per call. Beyond the message baseline the SDK does: one method call, the",
        "use-count and expiry check, comparing the field's header with the key's own (a",
        "byte-identical header skips parsing and signature verification; any other header is",
        "parsed and verified), prepending that header, and the result dict and document object.",
        "Figures on this shared machine move by ±0.1 between runs; for repeatable numbers count",
        "instructions instead (`--callgrind`, below).",
        "",
        "History (issue 8, callgrind instructions per 1 KiB SDK call in an ad-hoc loop, so not",
        "digit for digit comparable with the table below; before → after commit",
        "0c3e283: one use countdown, result documents built without the dataclass `__init__`",
        "frame, precomputed offsets): encrypt 18,045 → 17,539, decrypt 17,677 → 17,514,",
        "encrypt_into 17,069 → 16,855, decrypt_into 15,334 → 15,177. Tried and measured worse",
        "on CPython 3.11: `value.startswith(prefix)` for the header check (its argument parsing",
        'costs more than slicing 80 bytes) and `b"".join` for the field (more than two `+`).',
        "Timed before that commit, document-API decrypt at 1 KiB was 0.38 of the primitive.",
    ]
    if counts:
        lines += [
            "",
            "Instructions per 1 KiB call under `valgrind --tool=callgrind` (`--callgrind`;",
            "repeatable to about ±1%, unlike the timings; AES-NI work is few instructions, so",
            "these ratios run higher than the timed ones):",
            "",
            "| operation | primitive | message | SDK | ratio vs primitive | ratio vs message |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, (primitive, message, sdk) in counts.items():
            lines.append(
                f"| {name} | {primitive:,} | {message:,} | {sdk:,} "
                f"| {primitive / sdk:.2f} | {message / sdk:.2f} |"
            )
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-proxy", action="store_true")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--proxy-url")
    parser.add_argument("--api-key", default=os.environ.get("TSP_API_KEY"))
    parser.add_argument("--tenant")
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--loop", metavar="OPERATION", help="only call one case (for callgrind)")
    parser.add_argument("--column", choices=COLUMNS, default="sdk")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--callgrind", action="store_true", help="add instruction counts")
    args = parser.parse_args()
    if args.loop:
        loop(args.loop, args.column, args.count)
        return
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
    counts = callgrind_counts() if args.callgrind else None
    text = render(crypto, proxy, counts)
    print(text)
    if args.write:
        perfdoc.write_section(SECTION, text)


if __name__ == "__main__":
    main()
