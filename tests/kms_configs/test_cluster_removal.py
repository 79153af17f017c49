"""policy_submit when a policy drops a cluster: every blob it could open is re-sealed in the same
submission under a fresh key, or nothing is stored (docs/kms-configs.md "Clusters")."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from keyring.models import ProxyCluster
from kms_configs import browser
from kms_configs.browser import ConfigDraft
from kms_configs.errors import PolicyRejectedError
from kms_configs.models import ChangeLog, SealedConfig, TenantPolicy
from opencmk_crypto import OrgKeys, SealError, kid, open_config
from tests.kms_configs.conftest import World, kms_draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def west(world: World) -> tuple[OrgKeys, ProxyCluster]:
    return browser.cluster_register(world.vendor, world.alice, world.vendor_root, name="west")


@pytest.fixture
def drafts(world: World, west: tuple[OrgKeys, ProxyCluster]) -> list[ConfigDraft]:
    """A primary, a disabled config and a logging config, all sealed to east and west."""
    log = ConfigDraft(
        config={"provider": "webhook", "url": "https://siem.example/x", "secret": "s" * 16},
        kind="logging",
        label="SIEM",
    )
    published = [kms_draft(label="A"), kms_draft(label="B", state="disabled"), log]
    world.signer.publish(published, [world.cluster, west[1]])
    return published


def _counts() -> tuple[int, int, int, int]:
    return (
        TenantPolicy.objects.count(),
        SealedConfig.objects.count(),
        ChangeLog.objects.count(),
        AuditEvent.objects.filter(action="tenant_policy.signed").count(),
    )


def _without_west(world: World, drafts: list[ConfigDraft], *, reseal: list[ConfigDraft]) -> Any:
    """Re-seal ``reseal`` to the tenant root and east only, sign v2 without west, submit it."""
    for draft in reseal:
        world.signer.seal(draft, [world.cluster])  # same config id, fresh CEK and nonce
    return world.signer.publish(drafts, [world.cluster], upload=reseal)


def _refused(world: World, drafts: list[ConfigDraft], match: str, **kwargs: Any) -> None:
    before = _counts()
    with pytest.raises(PolicyRejectedError, match=match):
        _without_west(world, drafts, **kwargs)
    assert _counts() == before


def test_removing_a_cluster_without_resealing_is_refused(
    world: World, drafts: list[ConfigDraft]
) -> None:
    _refused(world, drafts, "still sealed to a cluster this policy removes", reseal=[])


def test_a_partial_reseal_stores_nothing(world: World, drafts: list[ConfigDraft]) -> None:
    primary, disabled, log = drafts
    # The disabled config is not served to proxies, but it may be re-enabled: it counts too.
    _refused(world, drafts, f"Config {disabled.config_id} is still sealed", reseal=[primary, log])
    assert SealedConfig.objects.filter(current=True).count() == 3


def test_dropping_only_the_recipient_entry_is_refused(
    world: World, drafts: list[ConfigDraft], west: tuple[OrgKeys, ProxyCluster]
) -> None:
    west_kid = kid(west[0].encryption_public)
    before = _counts()
    for draft in drafts:  # same nonce and ciphertext: west's CEK would still open them
        assert draft.sealed is not None
        draft.sealed = dict(
            draft.sealed, recipients=[r for r in draft.sealed["recipients"] if r["kid"] != west_kid]
        )
    with pytest.raises(PolicyRejectedError, match="keeps the ciphertext a removed cluster"):
        world.signer.publish(drafts, [world.cluster])
    assert _counts() == before


def test_a_full_reseal_locks_the_removed_cluster_out_of_every_blob(
    world: World, drafts: list[ConfigDraft], west: tuple[OrgKeys, ProxyCluster]
) -> None:
    v1 = TenantPolicy.objects.get(current=True).payload
    before = _counts()
    v2 = _without_west(world, drafts, reseal=list(drafts)).payload
    assert _counts() == (before[0] + 1, before[1] + 3, before[2] + 1, before[3] + 1)
    assert v2["clusters"] == [world.cluster.cluster_id]
    old = {e["config_id"]: e for e in [*v1["kms_configs"], v1["logging"]]}
    for entry in [*v2["kms_configs"], v2["logging"]]:
        assert entry["content_digest"] != old[entry["config_id"]]["content_digest"]
        assert entry.get("state") == old[entry["config_id"]].get("state")
    for blob in SealedConfig.objects.filter(current=True):
        with pytest.raises(SealError):
            open_config(blob.sealed, private_key=west[0].encryption_key)
        assert open_config(blob.sealed, private_key=world.cluster_keys.encryption_key)
    event = AuditEvent.objects.filter(action="tenant_policy.signed").latest("id")
    assert event.data["clusters_removed"] == [west[1].cluster_id]
    assert set(event.data["sealed_config_ids"]) == {d.config_id for d in drafts}


def test_a_policy_keeping_every_cluster_needs_no_reseal(
    world: World, drafts: list[ConfigDraft], west: tuple[OrgKeys, ProxyCluster]
) -> None:
    policy = world.signer.publish(drafts, [world.cluster, west[1]], upload=[])
    assert policy.version == 2
    event = AuditEvent.objects.filter(action="tenant_policy.signed").latest("id")
    assert event.data["clusters_removed"] == []


def test_the_page_endpoint_answers_400_and_stores_nothing_on_a_partial_reseal(
    world: World, drafts: list[ConfigDraft], bob_client: Client
) -> None:
    primary, _, log = drafts
    for draft in (primary, log):
        world.signer.seal(draft, [world.cluster])
    statement = world.signer.sign(world.signer.policy_payload(drafts, [world.cluster]))
    before = _counts()
    response = bob_client.post(
        reverse("kms_configs_pages:api_policy", args=[world.tenant.public_id]),
        data=json.dumps(
            {
                "statement": statement,
                "sealed_configs": [{"sealed": d.sealed, "label": d.label} for d in (primary, log)],
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "still sealed to a cluster this policy removes" in response.json()["error"]
    assert _counts() == before
