"""Two proxies create the same tenant secret at once: one 201, one 409 with the same record."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.db import connection, connections

from kms_configs.models import TenantSecret
from tests.kms_configs.conftest import ProxyClient, World


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="real concurrent writers need PostgreSQL; SQLite serialises every write",
)
def test_concurrent_creates_resolve_to_one_winner(
    transactional_db: None, world: World, proxy: ProxyClient
) -> None:
    world.publish()
    config_id = world.tenant.policies.get(current=True).payload["kms_configs"][0]["config_id"]
    path = "/api/v1/proxy/tenants/globex/secrets"
    barrier, results = threading.Barrier(4), []

    def create(n: int) -> None:
        body = {
            "secret_path": "users",
            "secret_type": "deterministic",
            "kms_config_id": config_id,
            "encrypted_secret": f"c2VjcmV0LXt{n}",
        }
        client = ProxyClient(world.cluster_keys, world.cluster.cluster_id)
        try:
            barrier.wait()
            response: Any = client.post(path, json.dumps(body).encode())
            results.append((response.status_code, response.json()["secret"]))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    statuses = sorted(status for status, _ in results)
    assert statuses == [201, 409, 409, 409]
    assert len({json.dumps(record, sort_keys=True) for _, record in results}) == 1
    assert TenantSecret.objects.count() == 1
