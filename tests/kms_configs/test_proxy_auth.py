"""Request-signature authentication of /api/v1/proxy/ (docs/sync-protocol.md §1)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent
from keyring.clusters import proxy_cluster_revoke
from opencmk_crypto import OrgKeys, issued_at_now, sign_statement
from tests.kms_configs.conftest import ProxyClient, World, signed_headers

pytestmark = pytest.mark.django_db
BUNDLES = "/api/v1/proxy/bundles?limit=500"


def _denied(reason: str) -> int:
    return AuditEvent.objects.filter(
        action="proxy.request", outcome="denied", data__error=reason
    ).count()


def _get(world: World, keys: OrgKeys | None = None, **options: object) -> object:
    headers = signed_headers(
        keys or world.cluster_keys, world.cluster.cluster_id, "GET", BUNDLES, **options
    )
    return Client().get(BUNDLES, **headers)


def test_a_correctly_signed_request_is_served_and_audited(world: World) -> None:
    response = _get(world)
    assert response.status_code == 200
    event = AuditEvent.objects.filter(action="proxy.request").latest("time")
    assert (event.actor_kind, event.actor_id, event.outcome) == (
        "proxy_cluster",
        world.cluster.cluster_id,
        "success",
    )


def test_it_refuses_a_signature_by_another_key(world: World) -> None:
    response = _get(world, OrgKeys.generate())
    assert (response.status_code, response.json()["error"]) == (401, "bad_signature")
    assert _denied("bad_signature") == 1


def test_it_refuses_a_signature_over_another_path(world: World) -> None:
    headers = signed_headers(
        world.cluster_keys, world.cluster.cluster_id, "GET", "/api/v1/proxy/bundles?limit=1"
    )
    response = Client().get(BUNDLES, **headers)
    assert response.json()["error"] == "bad_signature"


def test_it_refuses_a_signature_over_another_body(world: World) -> None:
    path = "/api/v1/proxy/heartbeat"
    headers = signed_headers(world.cluster_keys, world.cluster.cluster_id, "POST", path, b"{}")
    response = Client().generic(
        "POST", path, data=b'{"x":1}', content_type="application/json", **headers
    )
    assert (response.status_code, response.json()["error"]) == (401, "bad_signature")


@pytest.mark.parametrize("skew", [-65, 65])  # whole seconds: keep clear of 60
def test_it_refuses_a_stale_timestamp(world: World, skew: int) -> None:
    response = _get(world, timestamp=int(time.time()) + skew)
    assert (response.status_code, response.json()["error"]) == (401, "stale_signature")
    assert _denied("stale_signature") == 1


def test_it_accepts_a_timestamp_within_the_skew(world: World) -> None:
    assert _get(world, timestamp=int(time.time()) - 50).status_code == 200


def test_it_refuses_a_replayed_nonce(world: World) -> None:
    nonce = "0123456789abcdef0123456789abcdef"
    assert _get(world, nonce=nonce).status_code == 200
    response = _get(world, nonce=nonce)
    assert (response.status_code, response.json()["error"]) == (401, "replayed_request")
    assert _denied("replayed_request") == 1


def test_it_refuses_an_unknown_cluster(world: World) -> None:
    keys = OrgKeys.generate()
    response = ProxyClient(keys, "c-ffffffffffffffffffff").get(BUNDLES)
    assert (response.status_code, response.json()["error"]) == (401, "unknown_cluster")
    assert _denied("unknown_cluster") == 1


def test_a_revoked_cluster_is_refused_at_once(
    world: World, proxy: ProxyClient, django_capture_on_commit_callbacks: Any
) -> None:
    assert proxy.get(BUNDLES).status_code == 200  # its identity is now cached
    payload = {
        "type": "proxy-cluster-revocation",
        "vendor_id": str(world.vendor.public_id),
        "issued_at": issued_at_now(),
        "cluster_id": world.cluster.cluster_id,
    }
    statement = sign_statement("proxy-cluster-revocation", payload, world.vendor_root.signing_key)
    with django_capture_on_commit_callbacks(execute=True):  # the cache drops it on commit
        proxy_cluster_revoke(cluster=world.cluster, actor=world.alice, statement=statement)
    response = proxy.get(BUNDLES)
    assert (response.status_code, response.json()["error"]) == (401, "revoked_cluster")


def test_unsigned_requests_are_refused_even_with_a_browser_session(
    world: World, alice_client: Client
) -> None:
    response = alice_client.post(
        "/api/v1/proxy/heartbeat", data=json.dumps({}), content_type="application/json"
    )
    assert (response.status_code, response.json()["error"]) == (401, "unknown_cluster")


def test_successful_polls_are_summarised_in_one_event_per_cluster_per_minute(
    world: World, proxy: ProxyClient
) -> None:
    from django.core.cache import cache

    for _ in range(4):
        assert proxy.get(BUNDLES).status_code == 200
    events = AuditEvent.objects.filter(action="proxy.request", outcome="success")
    assert events.count() == 1  # the first poll of the window
    cache.delete(f"kms_configs:polls:{world.cluster.cluster_id}")  # the window ends
    assert proxy.get(BUNDLES).status_code == 200
    summary = events.latest("time")
    assert events.count() == 2
    assert (summary.data["earlier_polls_200"], summary.data["earlier_polls_304"]) == (3, 0)


def test_a_flood_of_refused_requests_writes_one_audit_event_per_window(world: World) -> None:
    keys = OrgKeys.generate()
    for _ in range(5):
        assert ProxyClient(keys, "c-ffffffffffffffffffff").get(BUNDLES).status_code == 401
    assert _denied("unknown_cluster") == 1
