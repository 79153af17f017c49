"""policy_submit: every rule of issue 5 item 2-3 refuses with a clear error and stores nothing."""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import AuditEvent
from kms_configs.errors import PolicyConflictError, PolicyRejectedError
from kms_configs.models import ChangeLog, SealedConfig, TenantPolicy
from kms_configs.services import config_id_reserve, policy_submit
from opencmk_crypto import OrgKeys, open_config, sign_statement
from tests.kms_configs.conftest import VAULT_CONFIG, World, kms_draft

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int]:
    return TenantPolicy.objects.count(), SealedConfig.objects.count(), ChangeLog.objects.count()


def _refused(world: World, error: type[Exception], match: str, **kwargs: Any) -> None:
    before = _counts()
    with pytest.raises(error, match=match):
        policy_submit(tenant=world.tenant, actor=world.bob, **kwargs)
    assert _counts() == before


def _sealed_submission(world: World, *drafts: Any, **payload_overrides: Any) -> dict[str, Any]:
    signer = world.signer
    for draft in drafts:
        signer.seal(draft, [world.cluster])
    payload = signer.policy_payload(drafts, [world.cluster]) | payload_overrides
    return {
        "statement": signer.sign(payload),
        "sealed_configs": [{"sealed": d.sealed, "label": d.label} for d in drafts],
    }


def test_a_valid_policy_is_stored_with_its_blobs_history_and_one_audit_event(world: World) -> None:
    events = AuditEvent.objects.count()
    policy = world.publish()
    assert (policy.version, policy.current, policy.signed_by) == (1, True, world.bob)
    blob = SealedConfig.objects.get(tenant=world.tenant)
    assert blob.content_digest == policy.payload["kms_configs"][0]["content_digest"]
    assert VAULT_CONFIG["token"] not in str(blob.sealed)
    # The cluster can open it (recipient), exactly as a proxy would.
    plain = open_config(blob.sealed, private_key=world.cluster_keys.encryption_key)
    assert b"vault-transit" in plain
    world.tenant.refresh_from_db()
    assert (world.tenant.status, world.tenant.policy_version) == ("active", 1)
    assert ChangeLog.objects.filter(kind="policy", tenant=world.tenant).count() == 1
    signed = AuditEvent.objects.filter(action="tenant_policy.signed")
    assert signed.count() == 1
    assert AuditEvent.objects.count() == events + 2  # + kms_config.id_reserved
    second = world.publish()
    assert second.version == 2
    assert list(
        TenantPolicy.objects.filter(tenant=world.tenant).values_list("version", "current")
    ) == [
        (1, False),
        (2, True),
    ]


def test_it_rejects_policy_signed_by_other_tenant(world: World) -> None:
    other = world.new_tenant("initech")
    submission = _sealed_submission(world, kms_draft())
    submission["statement"] = other.sign(world.signer.policy_payload([], [world.cluster]))
    _refused(world, PolicyRejectedError, "not signed by the tenant's root", **submission)


def test_it_rejects_a_forged_signature(world: World) -> None:
    submission = _sealed_submission(world, kms_draft())
    payload = world.signer.policy_payload([], [world.cluster])
    # Same kid as the tenant root, signature by a key that is not the tenant root's.
    forged = sign_statement("tenant-policy", payload, OrgKeys.generate().signing_key)
    submission["statement"] = dict(submission["statement"], sig=forged["sig"])
    _refused(world, PolicyRejectedError, "not signed", **submission)


def test_it_rejects_a_payload_naming_another_tenant(world: World) -> None:
    submission = _sealed_submission(world, kms_draft(), tenant_id="initech")
    _refused(world, PolicyRejectedError, "another tenant", **submission)


def test_it_rejects_a_payload_naming_another_vendor(world: World) -> None:
    submission = _sealed_submission(world, kms_draft(), vendor_id="other-vendor")
    _refused(world, PolicyRejectedError, "another vendor", **submission)


def test_it_rejects_a_version_that_does_not_increase(world: World) -> None:
    world.publish()
    submission = _sealed_submission(world, kms_draft(), version=1)
    _refused(world, PolicyConflictError, "greater than 1", **submission)


def test_it_rejects_a_digest_that_does_not_match_the_blob(world: World) -> None:
    draft = kms_draft()
    submission = _sealed_submission(world, draft)
    other = world.signer.seal(kms_draft(config_id=draft.config_id), [world.cluster])
    submission["sealed_configs"] = [{"sealed": other.sealed}]
    _refused(world, PolicyRejectedError, "digest of config", **submission)


def test_it_rejects_two_primaries(world: World) -> None:
    submission = _sealed_submission(world, kms_draft(), kms_draft())
    _refused(world, PolicyRejectedError, "Exactly one KMS config must be primary", **submission)


def test_it_rejects_active_configs_without_a_primary(world: World) -> None:
    submission = _sealed_submission(world, kms_draft(state="active"))
    _refused(world, PolicyRejectedError, "Exactly one", **submission)


def test_it_rejects_leasing_without_a_logging_config(world: World) -> None:
    submission = _sealed_submission(world, kms_draft(), leasing={"enabled": True, "max_age_s": 600})
    _refused(world, PolicyRejectedError, "leasing can be enabled only with a logging", **submission)


def test_leasing_is_accepted_with_a_logging_config(world: World) -> None:
    log = kms_draft(kind="logging")
    log.config = {"provider": "webhook", "url": "https://logs.example/x", "secret": "s"}
    policy = world.signer.publish(
        [kms_draft(), log], [world.cluster], leasing={"enabled": True, "max_age_s": 600}
    )
    assert policy.payload["logging"]["config_id"] == log.config_id


def test_it_rejects_an_unknown_or_revoked_cluster(world: World) -> None:
    submission = _sealed_submission(world, kms_draft(), clusters=["c-00000000000000000000"])
    _refused(world, PolicyRejectedError, "unknown or revoked", **submission)


def test_it_rejects_a_config_not_sealed_to_every_allowed_cluster(world: World) -> None:
    draft = world.signer.seal(kms_draft(), [])  # sealed to the tenant root only
    payload = world.signer.policy_payload([draft], [world.cluster])
    _refused(
        world,
        PolicyRejectedError,
        "not sealed to the tenant root and every allowed cluster",
        statement=world.signer.sign(payload),
        sealed_configs=[{"sealed": draft.sealed}],
    )


def test_it_rejects_a_config_id_reserved_by_another_tenant(world: World) -> None:
    other = world.new_tenant("initech")
    foreign = config_id_reserve(tenant=other.tenant, actor=other.admin, kind="kms")
    submission = _sealed_submission(world, kms_draft(config_id=foreign))
    _refused(world, PolicyRejectedError, "not reserved for this tenant", **submission)


def test_it_rejects_a_malformed_sealed_config(world: World) -> None:
    submission = _sealed_submission(world, kms_draft())
    submission["sealed_configs"][0]["sealed"] = dict(
        submission["sealed_configs"][0]["sealed"], nonce="AAAA"
    )
    _refused(world, PolicyRejectedError, "Malformed sealed config", **submission)


def test_a_policy_needs_an_approved_tenant_root(world: World) -> None:
    from tests.broker.factories import TenantFactory

    bare = TenantFactory(vendor=world.vendor, tenant_id="bare")
    statement = world.signer.sign(world.signer.policy_payload([], [world.cluster]))
    with pytest.raises(PolicyRejectedError, match="not approved"):
        policy_submit(tenant=bare, actor=world.bob, statement=statement)


def test_config_ids_are_random_32_bit_and_unique(world: World) -> None:
    ids = {config_id_reserve(tenant=world.tenant, actor=world.bob, kind="kms") for _ in range(20)}
    assert len(ids) == 20
    assert all(0 < i < 2**31 for i in ids)
    assert sorted(ids) != list(range(min(ids), min(ids) + 20))  # not sequential


def test_disabling_the_only_config_keeps_its_blob_but_needs_no_primary(world: World) -> None:
    draft = kms_draft()
    world.signer.publish([draft], [world.cluster])
    draft.state = "disabled"
    policy = world.signer.publish([draft], [world.cluster], upload=[])
    assert policy.payload["kms_configs"][0]["state"] == "disabled"
    assert SealedConfig.objects.filter(config_id=draft.config_id).count() == 1
