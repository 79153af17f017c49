"""Run the whole OpenCMK stack on embedded defaults (the README's first command).

Starts an OpenBao dev server (the demo tenant's KMS, Vault Transit key ``globex``), prepares
the SQLite database and demo data (``seed_demo`` also seals and signs globex's KMS config and
writes the demo proxy's environment to ``.local/proxy.env``), then starts the broker on
127.0.0.1:8000 and a Tenant Security Proxy for the demo cluster on 127.0.0.1:7777 (health on
:9000). When the proxy is ready it prints the demo logins and an SDK snippet that works when
pasted. Ctrl-C stops everything this script started.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BROKER_ADDR = os.environ.get("OPENCMK_BIND", "127.0.0.1:8000")
BAO_ADDR = os.environ.get("OPENCMK_DEMO_BAO_LISTEN", "127.0.0.1:8200")
# The dev server's published root token; kms_configs/demo.py seals the same value.
BAO_TOKEN = "opencmk-demo-root-token"  # noqa: S105 - demo dev server on loopback only
PROXY_PORT, PROXY_HEALTH_PORT = "7777", "9000"
TRANSIT_KEY = "globex"
SNIPPET = "\n".join(
    [
        "from tenant_security_client import RequestMetadata, TenantSecurityClient",
        'tsc = TenantSecurityClient("http://127.0.0.1:{port}", "{api_key}", '
        "allow_insecure_http=True)"
        '; meta = RequestMetadata(tenant_id="globex", requesting_id="demo")',
        'print(tsc.decrypt(tsc.encrypt({{"note": b"hello, globex"}}, meta), meta).fields)',
    ]
)


def _require_free_ports() -> None:
    """Stop with a sentence, not a traceback, when another stack (or anything) holds a port."""
    bao_port = BAO_ADDR.rsplit(":", 1)[1]
    broker_port = BROKER_ADDR.rsplit(":", 1)[1]
    wanted = {
        broker_port: "broker",
        bao_port: "OpenBao",
        str(int(bao_port) + 1): "OpenBao cluster",
        PROXY_PORT: "proxy API",
        PROXY_HEALTH_PORT: "proxy health",
    }
    busy = []
    for port, what in wanted.items():
        with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
            if probe.connect_ex(("127.0.0.1", int(port))) == 0:
                busy.append(f"{port} ({what})")
    if busy:
        raise SystemExit(
            "Port(s) already in use on 127.0.0.1: " + ", ".join(busy) + ". Is another OpenCMK "
            "stack still running? Stop it (Ctrl-C) or free the ports, then run again."
        )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # Ctrl-C and `kill` both stop the whole stack (also when started from a script, where an
    # inherited "ignore SIGINT" would otherwise leave the children running).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    env = _embedded_env()
    _require_free_ports()
    children: list[subprocess.Popen[bytes]] = []
    try:
        children.append(_start_openbao(env))
        _prepare_transit()
        _manage(env, "migrate", "--no-input", "-v", "0")
        seed = _manage(env, "seed_demo", capture=True)
        children.append(_start_broker(env))
        _wait_http(f"http://{BROKER_ADDR}/accounts/login/", "broker")
        proxy_env = _proxy_env(env)
        children.append(_start_proxy(proxy_env))
        _wait_http(f"http://127.0.0.1:{PROXY_HEALTH_PORT}/ready", "proxy", timeout=60)
        print(seed, flush=True)
        print(f"OpenCMK is running: http://{BROKER_ADDR}/  (Ctrl-C stops everything)")
        print(
            f"Tenant Security Proxy: http://127.0.0.1:{PROXY_PORT}  API key: "
            f"{proxy_env['TSP_API_KEY']}"
        )
        print(
            "\nEncrypt and decrypt a document for the demo tenant (paste into .venv/bin/python):\n"
        )
        print(SNIPPET.format(port=PROXY_PORT, api_key=proxy_env["TSP_API_KEY"]), flush=True)
        return _supervise(children, env)
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(children)


def _embedded_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("OPENCMK_ENV", "embedded")
    env.setdefault("OPENCMK_SITE_URL", f"http://{BROKER_ADDR}")
    env["OPENCMK_DEMO_BAO_ADDR"] = f"http://{BAO_ADDR}"
    env["OPENCMK_DEMO_BAO_TOKEN"] = BAO_TOKEN
    # Embedded means embedded: ignore a DATABASE_URL / REDIS_URL left in the shell by CI or tests.
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    return env


def _start_openbao(env: dict[str, str]) -> subprocess.Popen[bytes]:
    bao = Path(PY).with_name("bao")
    local = ROOT / ".local"
    local.mkdir(exist_ok=True)
    clean = {k: v for k, v in env.items() if not k.startswith(("BAO_", "VAULT_"))}
    clean["HOME"] = str(local)  # the CLI may write a token helper file; keep it out of $HOME
    log = (local / "openbao.log").open("wb")
    cmd = [
        str(bao),
        "server",
        "-dev",
        f"-dev-listen-address={BAO_ADDR}",
        f"-dev-root-token-id={BAO_TOKEN}",
        "-dev-no-store-token",
    ]
    process = subprocess.Popen(
        cmd, env=clean, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    _wait_http(f"http://{BAO_ADDR}/v1/sys/health", "OpenBao dev server")
    return process


def _bao(method: str, path: str, body: dict[str, object]) -> None:
    request = urllib.request.Request(
        f"http://{BAO_ADDR}/v1/{path}",
        data=json.dumps(body).encode(),
        method=method,
        headers={"X-Vault-Token": BAO_TOKEN, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310
        return


def _prepare_transit() -> None:
    _bao("POST", "sys/mounts/transit", {"type": "transit"})
    # Derived: the proxy binds every wrap to the tenant id through the transit context.
    _bao("POST", f"transit/keys/{TRANSIT_KEY}", {"type": "aes256-gcm96", "derived": True})


def _manage(env: dict[str, str], *args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [PY, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return result.stdout or ""


def _start_broker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [
        PY,
        "-m",
        "gunicorn",
        "broker.wsgi:application",
        "--bind",
        BROKER_ADDR,
        # One process with threads: the embedded cache is per process, and the proxy API's
        # replay-nonce cache must be shared by everything that answers the proxy.
        "--workers",
        "1",
        "--threads",
        "8",
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "5",
    ]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)


def _proxy_env(env: dict[str, str]) -> dict[str, str]:
    """The demo proxy's environment: what seed_demo wrote (0600), plus where things listen."""
    path = Path(env.get("OPENCMK_LOCAL_DIR", ROOT / ".local")) / "proxy.env"
    values = dict(
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("TSP_")}
    return (
        base
        | values
        | {
            "TSP_BROKER_URL": f"http://{BROKER_ADDR}",
            "TSP_BIND": "127.0.0.1",
            "TSP_PORT": PROXY_PORT,
            "TSP_HEALTH_PORT": PROXY_HEALTH_PORT,
        }
    )


def _start_proxy(env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [PY, "-m", "tenant_security_proxy", "serve"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)


def _wait_http(url: str, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - fixed loopback URL
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise SystemExit(f"The {what} did not answer on {url} within {timeout:.0f} s.")


def _publish_checkpoints(env: dict[str, str]) -> None:
    """What Celery beat does in production: publish a signed checkpoint of every audit chain
    that moved (embedded mode runs no beat). A failure is reported, never fatal to the demo."""
    done = subprocess.run(
        [PY, "manage.py", "audit_checkpoint", "--publish", "-v", "0"],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
    )
    if done.returncode:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:]
        print(f"Publishing audit checkpoints failed: {' '.join(tail)}", file=sys.stderr)


def _supervise(children: list[subprocess.Popen[bytes]], env: dict[str, str]) -> int:
    every = float(env.get("OPENCMK_AUDIT_CHECKPOINT_SECONDS") or 300)
    next_checkpoint = time.monotonic()  # once now, so the demo's audit pages show one
    while True:
        if time.monotonic() >= next_checkpoint:
            _publish_checkpoints(env)
            next_checkpoint = time.monotonic() + every
        for child in children:
            code = child.poll()
            if code is not None:
                print(
                    f"A component exited with status {code}; stopping the stack.", file=sys.stderr
                )
                return code or 1
        time.sleep(0.5)


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in reversed(children):
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        # Each child leads its own process group: kill whatever of it is still there
        # (a worker that outlived its parent, a server stuck in shutdown).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)


if __name__ == "__main__":
    raise SystemExit(main())
