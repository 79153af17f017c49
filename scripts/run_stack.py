"""Run the whole OpenCMK stack on embedded defaults (the README's first command).

Prepares the SQLite database and demo data, then starts the broker on 127.0.0.1:8000 and keeps
it in the foreground. Ctrl-C stops everything this script started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BROKER_ADDR = os.environ.get("OPENCMK_BIND", "127.0.0.1:8000")


def main() -> int:
    env = _embedded_env()
    _manage(env, "migrate", "--no-input", "-v", "0")
    seed = _manage(env, "seed_demo", capture=True)

    children: list[subprocess.Popen[bytes]] = []
    try:
        children.append(_start_broker(env))
        _wait_http(f"http://{BROKER_ADDR}/accounts/login/", "broker")
        print(seed, flush=True)
        print(f"OpenCMK is running: http://{BROKER_ADDR}/  (Ctrl-C stops everything)", flush=True)
        return _supervise(children)
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(children)


def _embedded_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("OPENCMK_ENV", "embedded")
    env.setdefault("OPENCMK_SITE_URL", f"http://{BROKER_ADDR}")
    # Embedded means embedded: ignore a DATABASE_URL / REDIS_URL left in the shell by CI or tests.
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    return env


def _manage(env: dict[str, str], *args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, check=True, text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return result.stdout or ""


def _start_broker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [
        PY, "-m", "gunicorn", "broker.wsgi:application", "--bind", BROKER_ADDR,
        "--workers", "2", "--access-logfile", "-", "--graceful-timeout", "5",
    ]
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


def _supervise(children: list[subprocess.Popen[bytes]]) -> int:
    while True:
        for child in children:
            code = child.poll()
            if code is not None:
                print(f"A component exited with status {code}; stopping the stack.", file=sys.stderr)
                return code or 1
        time.sleep(0.5)


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)


if __name__ == "__main__":
    raise SystemExit(main())
