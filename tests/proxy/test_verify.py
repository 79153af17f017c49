"""The verification chain of DESIGN.md §6.2 as pure functions (P-06)."""

from __future__ import annotations

import pytest

from opencmk_crypto import OrgKeys
from tenant_security_proxy.verify import (
    BundleRejectedError,
    ClusterIdentity,
    ClusterRevokedError,
    verify_cluster,
    verify_tenant_bundle,
)
from tests.fakes.broker import KmsSpec, World
from tests.proxy.localkms import local_config


@pytest.fixture(scope="module")
def world() -> World:
    return World()


@pytest.fixture(scope="module")
def me(world) -> ClusterIdentity:
    return ClusterIdentity(
        world.cluster_id, world.cluster.signing_public, world.cluster.encryption_key
    )


def _verify(world, me, bundle, seen=None):
    return verify_tenant_bundle(
        bundle, vendor_root=world.vendor.signing_public, vendor_id=world.vendor_id, me=me, seen=seen
    )


def _reason(world, me, bundle, seen=None) -> str:
    with pytest.raises(BundleRejectedError) as info:
        _verify(world, me, bundle, seen)
    return info.value.reason


def test_it_accepts_a_valid_bundle_and_decrypts_its_configs(world, me):
    spec = KmsSpec(local_config())
    verified = _verify(world, me, world.bundle("acme", 3, [spec], leasing=True, max_age_s=60))
    assert verified.version == 3
    assert verified.leasing_enabled and verified.leasing_max_age_s == 60
    assert verified.kms_configs[spec.config_id].plaintext == spec.config


def test_it_rejects_tenant_root_not_signed_by_the_pinned_vendor_root(world, me):
    bundle = world.bundle("acme", 1, [KmsSpec(local_config())])
    bundle["tenant_root"] = world.tenant_root("acme", signer=OrgKeys.generate())
    assert _reason(world, me, bundle) == "bad_signature"


def test_it_rejects_policy_signed_by_other_tenant(world, me):
    bundle = world.bundle("acme", 1, [KmsSpec(local_config())], signer=world.tenant_keys("globex"))
    assert _reason(world, me, bundle) == "bad_signature"


def test_it_rejects_a_policy_for_another_tenant_id(world, me):
    # Globex's genuine policy, served under acme's id together with a root statement for acme.
    bundle = world.bundle("acme", 1, [KmsSpec(local_config())], policy_tenant_id="globex")
    assert _reason(world, me, bundle) == "tenant_mismatch"


def test_it_rejects_a_tenant_root_of_another_tenant(world, me):
    bundle = world.bundle("acme", 1, [KmsSpec(local_config())])
    bundle["tenant_root"] = world.tenant_root("globex", keys=world.tenant_keys("acme"))
    assert _reason(world, me, bundle) == "tenant_mismatch"


def test_it_rejects_a_rolled_back_policy_version(world, me):
    newer = world.bundle("acme", 5, [KmsSpec(local_config())])
    seen = (5, _verify(world, me, newer).policy_bytes)
    older = world.bundle("acme", 4, [KmsSpec(local_config())])
    assert _reason(world, me, older, seen) == "policy_rollback"


def test_it_rejects_two_different_policies_with_the_same_version(world, me):
    first = _verify(world, me, world.bundle("acme", 7, [KmsSpec(local_config())]))
    other = world.bundle("acme", 7, [KmsSpec(local_config())])
    assert _reason(world, me, other, (7, first.policy_bytes)) == "policy_equivocation"


def test_it_skips_a_policy_it_already_applied(world, me):
    bundle = world.bundle("acme", 8, [KmsSpec(local_config())])
    first = _verify(world, me, bundle)
    assert _verify(world, me, bundle, (8, first.policy_bytes)) is None


def test_it_rejects_a_policy_that_does_not_allow_this_cluster(world, me):
    bundle = world.bundle("acme", 1, [KmsSpec(local_config())], clusters=["cluster-2"])
    assert _reason(world, me, bundle) == "cluster_not_allowed"


def test_it_rejects_a_sealed_config_whose_digest_differs_from_the_policy(world, me):
    bundle = world.bundle("acme", 1, [KmsSpec(local_config())])
    replacement = world.bundle(
        "acme", 1, [KmsSpec(local_config(), config_id=bundle["sealed_configs"][0]["config_id"])]
    )
    bundle["sealed_configs"] = replacement["sealed_configs"]
    assert _reason(world, me, bundle) == "digest_mismatch"


def test_it_rejects_a_config_sealed_for_another_tenant(world, me):
    # The blob says tenant "globex": the AD check (or the header check) must catch the swap.
    bundle = world.bundle("acme", 1, [KmsSpec(local_config())], seal_tenant_id="globex")
    assert _reason(world, me, bundle) == "seal_error"


def test_it_rejects_a_policy_whose_config_is_missing(world, me):
    bundle = world.bundle("acme", 1, [KmsSpec(local_config())])
    bundle["sealed_configs"] = []
    assert _reason(world, me, bundle) == "missing_config"


def test_it_rejects_a_policy_with_two_primaries(world, me):
    bundle = world.bundle(
        "acme", 1, [KmsSpec(local_config(), "primary"), KmsSpec(local_config(), "primary")]
    )
    assert _reason(world, me, bundle) == "malformed_policy"


def test_disabled_configs_need_no_sealed_blob(world, me):
    spec = KmsSpec(local_config(), "disabled")
    bundle = world.bundle("acme", 1, [KmsSpec(local_config()), spec])
    bundle["sealed_configs"] = bundle["sealed_configs"][:1]
    verified = _verify(world, me, bundle)
    assert verified.kms_configs[spec.config_id].plaintext is None


def test_cluster_check_accepts_our_certified_cluster(world, me):
    assert (
        verify_cluster(
            [world.cluster_statement()], [], vendor_root=world.vendor.signing_public, me=me
        )
        == world.vendor_id
    )


@pytest.mark.parametrize("case", ["forged", "other_cluster", "other_keys", "missing"])
def test_cluster_check_rejects_uncertified_clusters(world, me, case):
    statement = {
        "forged": lambda: world.cluster_statement(signer=OrgKeys.generate()),
        "other_cluster": lambda: world.cluster_statement(cluster_id="cluster-2"),
        "other_keys": lambda: world.cluster_statement(keys=OrgKeys.generate()),
        "missing": lambda: None,
    }[case]()
    with pytest.raises(BundleRejectedError) as info:
        verify_cluster(
            [statement] if statement else [], [], vendor_root=world.vendor.signing_public, me=me
        )
    assert info.value.reason == "cluster_not_certified"


def test_cluster_check_honours_a_genuine_revocation_and_ignores_a_forged_one(world, me):
    root = world.vendor.signing_public
    forged = world.revocation(signer=OrgKeys.generate())
    assert verify_cluster([world.cluster_statement()], [forged], vendor_root=root, me=me)
    with pytest.raises(ClusterRevokedError):
        verify_cluster([world.cluster_statement()], [world.revocation()], vendor_root=root, me=me)
