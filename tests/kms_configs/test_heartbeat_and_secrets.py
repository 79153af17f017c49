"""POST heartbeat (latest per replica and tenant) and tenant secrets (first write wins)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from audit.models import AuditEvent
from kms_configs.models import ProxyHeartbeat, TenantSecret
from kms_configs.selectors import tenant_proxy_status
from tests.kms_configs.conftest import ProxyClient, World

pytestmark = pytest.mark.django_db
HEARTBEAT = "/api/v1/proxy/heartbeat"


def _heartbeat(world: World, instance: str = "host-1", **tenant: Any) -> dict[str, Any]:
    entry = {
        "tenant_id": "globex",
        "policy_version": 1,
        "status": "loaded",
        "rejection": None,
        "configs": [
            {
                "config_id": 17,
                "state": "primary",
                "canary": "ok",
                "last_kms_error": None,
                "last_kms_error_at": None,
                "counters": {"wraps": 5, "unwraps": 2, "errors": 0},
                "token": "must-not-be-stored",
            }
        ],
        "events": {"queued": 0, "dropped": 0, "delivered": 7, "failed": 0},
    } | tenant
    return {
        "cluster_id": world.cluster.cluster_id,
        "instance_id": instance,
        "proxy_version": "0.1.0",
        "sent_at": "2026-11-28T15:04:05Z",
        "cursor": "c:1",
        "ready": True,
        "tenants": [entry, {"tenant_id": "not-ours", "status": "loaded", "configs": []}],
    }


def _post(proxy: ProxyClient, body: Any) -> Any:
    return proxy.post(HEARTBEAT, json.dumps(body).encode())


def test_a_heartbeat_stores_the_latest_status_per_replica_and_tenant(
    world: World, proxy: ProxyClient
) -> None:
    assert _post(proxy, _heartbeat(world)).status_code == 204
    assert _post(proxy, _heartbeat(world, policy_version=2)).status_code == 204
    assert _post(proxy, _heartbeat(world, instance="host-2")).status_code == 204
    rows = ProxyHeartbeat.objects.filter(tenant=world.tenant).order_by("instance_id")
    assert [(r.instance_id, r.policy_version) for r in rows] == [("host-1", 2), ("host-2", 1)]
    config = rows[0].configs[0]
    assert "token" not in config  # only protocol fields are kept
    assert config["counters"] == {"wraps": 5, "unwraps": 2, "errors": 0}
    assert ProxyHeartbeat.objects.count() == 2  # the other vendor's tenant id is ignored


def test_heartbeat_audit_records_are_rate_limited_per_replica(
    world: World, proxy: ProxyClient
) -> None:
    for _ in range(3):
        _post(proxy, _heartbeat(world))
    _post(proxy, _heartbeat(world, instance="host-2"))
    assert AuditEvent.objects.filter(action="proxy.heartbeat").count() == 2


def test_a_heartbeat_for_another_cluster_id_is_refused(world: World, proxy: ProxyClient) -> None:
    body = _heartbeat(world) | {"cluster_id": "c-00000000000000000000"}
    response = _post(proxy, body)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_heartbeat")


def test_the_status_selector_reports_each_config_with_its_age(
    world: World, proxy: ProxyClient
) -> None:
    _post(proxy, _heartbeat(world))
    status = tenant_proxy_status(tenant=world.tenant)
    assert len(status.replicas) == 1
    replica = status.replicas[0]
    assert (replica.cluster_name, replica.instance_id, replica.policy_version) == (
        "east",
        "host-1",
        1,
    )
    assert replica.configs[0]["canary"] == "ok"
    assert 0 <= replica.age_seconds < 60
    assert status.stale is False


# ---- tenant secrets ---------------------------------------------------------------------


def _secrets_path(tenant_id: str = "globex") -> str:
    return f"/api/v1/proxy/tenants/{tenant_id}/secrets"


def _secret_body(world: World, wrapped: str = "AAAA") -> bytes:
    config_id = world.tenant.policies.get(current=True).payload["kms_configs"][0]["config_id"]
    return json.dumps(
        {
            "secret_path": "users",
            "secret_type": "deterministic",
            "kms_config_id": config_id,
            "encrypted_secret": wrapped,
        }
    ).encode()


def test_first_write_wins_and_the_loser_gets_the_existing_record(
    world: World, proxy: ProxyClient
) -> None:
    world.publish()
    first = proxy.post(_secrets_path(), _secret_body(world, "Zmlyc3Q="))
    second = proxy.post(_secrets_path(), _secret_body(world, "c2Vjb25k"))
    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["secret"] == first.json()["secret"]
    record = first.json()["secret"]
    assert record["status"] == "current"
    assert 0 < record["tenant_secret_id"] < 2**32
    listed = proxy.get(_secrets_path())
    assert listed.json() == {"secrets": [record]}
    assert AuditEvent.objects.filter(action="tenant_secret.created").count() == 1


def test_secrets_of_a_tenant_this_cluster_does_not_serve_are_404(
    world: World, proxy: ProxyClient
) -> None:
    world.new_tenant("initech")  # no policy, so not served
    for path in (_secrets_path("initech"), _secrets_path("nobody")):
        response = proxy.get(path)
        assert (response.status_code, response.json()["error"]) == (404, "unknown_tenant")


def test_a_secret_must_name_one_of_the_tenants_kms_configs(
    world: World, proxy: ProxyClient
) -> None:
    world.publish()
    body = json.loads(_secret_body(world)) | {"kms_config_id": 12345}
    response = proxy.post(_secrets_path(), json.dumps(body).encode())
    assert (response.status_code, response.json()["error"]) == (400, "invalid_secret")
    assert not TenantSecret.objects.exists()
