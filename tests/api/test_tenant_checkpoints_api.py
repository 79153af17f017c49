"""L-06: a tenant's SIEM pulls the checkpoints the broker published of its chain (pull, not push:
the broker never holds the tenant's SIEM credentials)."""

from __future__ import annotations

from typing import Any

from audit.actors import Actor
from audit.checkpoint import parse_checkpoint
from audit.models import AuditChainHead, AuditCheckpoint
from audit.publishing import checkpoint_publish
from audit.services import record
from tests.api.conftest import ApiClient
from tests.broker.factories import TenantFactory

CHECKPOINTS = "/api/v1/tenant/audit-checkpoints"


def _publish(tenant: Any, events: int) -> AuditCheckpoint:
    for _ in range(events):
        record(action="kms_config.sealed", actor=Actor.system("t"), vendor=None, tenant=tenant)
    head = AuditChainHead.objects.get(tenant_public_id=tenant.public_id)
    published = checkpoint_publish(chain_pk=head.pk)
    assert published is not None
    return published


def _pull(client: ApiClient, after: int, limit: int) -> dict[str, Any]:
    response = client.get(f"{CHECKPOINTS}?after={after}&limit={limit}")
    assert response.status_code == 200, response.json()
    body: dict[str, Any] = response.json()
    return body


def test_a_siem_pulls_every_published_checkpoint_once_and_can_check_each(
    globex_key: str, globex: Any
) -> None:
    published = [_publish(globex, 2) for _ in range(5)]
    siem, after, seen = ApiClient(globex_key), 0, []
    while True:
        page = _pull(siem, after, 2)
        seen += page["checkpoints"]
        after = page["next_after"]
        if not page["has_more"]:
            break
    assert [c["seq"] for c in seen] == [p.seq for p in published]
    for doc, row in zip(seen, published, strict=True):
        # Exactly the signed document the WORM copy holds: it verifies on its own.
        assert parse_checkpoint(row.body) == doc
    assert _pull(siem, after, 10) == {"checkpoints": [], "next_after": after, "has_more": False}


def test_a_tenant_key_sees_only_its_own_chains_checkpoints(
    globex_key: str, globex: Any, acme: Any
) -> None:
    other = TenantFactory(vendor=acme, tenant_id="hooli")
    _publish(other, 3)
    record(action="vendor.settings_changed", actor=Actor.system("t"), vendor=acme)
    checkpoint_publish(chain_pk=AuditChainHead.objects.get(key=f"vendor:{acme.public_id}").pk)
    mine = _publish(globex, 1)
    chains = {c["chain"] for c in _pull(ApiClient(globex_key), 0, 500)["checkpoints"]}
    assert chains == {mine.chain.key}


def test_bad_cursors_are_refused(globex_key: str) -> None:
    siem = ApiClient(globex_key)
    assert siem.get(f"{CHECKPOINTS}?after=-1").status_code == 400
    assert siem.get(f"{CHECKPOINTS}?limit=501").status_code == 400
    assert siem.get(f"{CHECKPOINTS}?after=x").status_code == 400
