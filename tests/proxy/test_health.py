"""Health port (DESIGN.md §6.3): live, ready, health, metrics, seal (P-03)."""

from __future__ import annotations

import subprocess
import sys

from tests.fakes.broker import KmsSpec
from tests.fixtures.proxy import API_KEY
from tests.proxy.conftest import run
from tests.proxy.helpers import asgi_call
from tests.proxy.localkms import local_config


def _get(runtime, path):
    return run(asgi_call(runtime.health, "GET", path))


def test_live_but_not_ready_before_the_first_sync(harness):
    runtime = harness.runtime()
    assert _get(runtime, "/live")[0] == 200
    status, answer = _get(runtime, "/ready")
    assert (status, answer["reason"]) == (503, "configuration not loaded yet")


def test_ready_once_loaded_and_health_reports_details(harness):
    harness.broker.put_bundle(harness.world.bundle("acme", 1, [KmsSpec(local_config())]))
    runtime = harness.runtime()
    run(runtime.syncer.sync_once())
    assert _get(runtime, "/ready")[0] == 200
    status, answer = _get(runtime, "/health")
    assert status == 200 and answer["tenants"] == 1 and answer["loaded"] is True


def test_metrics_expose_the_observability_set(harness):
    harness.broker.put_bundle(harness.world.bundle("acme", 1, [KmsSpec(local_config())]))
    runtime = harness.runtime()
    run(runtime.syncer.sync_once())
    run(
        asgi_call(
            runtime.api,
            "POST",
            "/api/1/document/wrap",
            {"tenantId": "acme", "iclFields": {"requestingId": "a"}},
            [(b"authorization", f"cmk {API_KEY}".encode())],
        )
    )
    status, text = _get(runtime, "/metrics")
    assert status == 200
    text = text.decode() if isinstance(text, bytes) else str(text)
    for name in (
        "tsp_requests_total{",
        "tsp_request_seconds_bucket",
        "tsp_config_age_seconds",
        "tsp_tenants_loaded",
        "tsp_key_kms_calls_total",
        "tsp_sync_total",
    ):
        assert name in text, name
    assert 'tenant="acme"' in text


def test_seal_needs_the_api_key_and_then_drops_every_config(harness):
    harness.broker.put_bundle(harness.world.bundle("acme", 1, [KmsSpec(local_config())]))
    runtime = harness.runtime()
    run(runtime.syncer.sync_once())
    assert run(asgi_call(runtime.health, "POST", "/admin/seal"))[0] == 401
    auth = [(b"authorization", f"cmk {API_KEY}".encode())]
    assert run(asgi_call(runtime.health, "POST", "/admin/seal", None, auth))[0] == 200
    assert runtime.state.tenants == {}
    assert _get(runtime, "/ready")[0] == 503
    assert harness.hub.named("PROXY_SEALED", "acme")
    status, answer = run(
        asgi_call(
            runtime.api,
            "POST",
            "/api/1/document/wrap",
            {"tenantId": "acme", "iclFields": {"requestingId": "a"}},
            auth,
        )
    )
    assert (status, answer["code"]) == (503, 100)


def test_importing_the_proxy_loads_no_django():
    code = (
        "import sys, tenant_security_proxy, tenant_security_proxy.runtime, "
        "tenant_security_proxy.server, tenant_security_proxy.__main__; "
        "bad = [m for m in sys.modules if m == 'django' or m.startswith('django.')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
