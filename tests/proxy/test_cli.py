"""`python -m tenant_security_proxy keygen | serve | check` as real processes."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nacl.public
import nacl.signing
import pytest

from tests.fakes.broker import FakeBroker, KmsSpec, World
from tests.fixtures.kms_services import free_port
from tests.fixtures.proxy import API_KEY, vault_config
from tests.proxy.helpers import get, meta, post

ROOT = Path(__file__).resolve().parents[2]


def _cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tenant_security_proxy", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_keygen_prints_the_private_env_block_and_matching_public_keys():
    result = _cli("keygen")
    assert result.returncode == 0
    values = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    signing = nacl.signing.SigningKey(base64.b64decode(values["TSP_CLUSTER_SIGNING_KEY"]))
    encryption = nacl.public.PrivateKey(base64.b64decode(values["TSP_CLUSTER_ENCRYPTION_KEY"]))
    assert base64.b64decode(values["signing_key"]) == bytes(signing.verify_key)
    assert base64.b64decode(values["encryption_key"]) == bytes(encryption.public_key)
    assert _cli("keygen").stdout != result.stdout  # fresh keys every time


def test_serve_refuses_a_bad_environment_with_a_clear_message():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TSP_", "API_KEY"))}
    result = _cli("serve", env=env | {"TSP_API_KEY": "x" * 20})
    assert result.returncode == 2
    assert "TSP_BROKER_URL is required" in result.stderr


@pytest.fixture
def deployment(openbao):
    world = World()
    broker = FakeBroker(world).start()
    broker.put_bundle(
        world.bundle("acme", 1, [KmsSpec(vault_config(openbao, "cli-acme"))], leasing=True)
    )
    port, health = free_port(), free_port()
    env = (
        os.environ
        | world.env()
        | {
            "TSP_API_KEY": API_KEY,
            "TSP_BROKER_URL": broker.url,
            "TSP_BIND": "127.0.0.1",
            "TSP_PORT": str(port),
            "TSP_HEALTH_PORT": str(health),
            "TSP_SYNC_INTERVAL": "300ms",
        }
    )
    yield env, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{health}"
    broker.stop()


@pytest.mark.services
def test_check_reports_broker_and_canary(deployment):
    env, _, _ = deployment
    result = _cli("check", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broker: ok (1 tenants loaded)" in result.stdout
    assert "config" in result.stdout and ": ok" in result.stdout


@pytest.mark.services
def test_serve_answers_on_both_ports_and_stops_gracefully_on_sigterm(deployment):
    env, url, health = deployment
    process = subprocess.Popen(
        [sys.executable, "-m", "tenant_security_proxy", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while get(health + "/ready")[0] != 200:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.1)
        assert post(url, "document/wrap", meta("acme"), api_key=API_KEY)[0] == 200
        assert b"opencmk-tenant-security-proxy" in get(url + "/")[1]
        limits = Path(f"/proc/{process.pid}/limits").read_text()
        assert any(
            line.startswith("Max core file size") and " 0 " in line for line in limits.splitlines()
        )
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        logs = process.stderr.read().decode() if process.stderr else ""
        if process.stderr:
            process.stderr.close()
    assert API_KEY not in logs and env["TSP_CLUSTER_SIGNING_KEY"] not in logs
