from __future__ import annotations

from typing import Any

import pytest

from audit.models import AuditEvent
from keyring import clusters, selectors
from keyring.errors import KeyringConflictError, KeyringPermissionError, StatementRejectedError
from keyring.models import ClusterStatus, OrgRootKey, ProxyCluster
from keyring.validation import cluster_id_for
from opencmk_crypto import OrgKeys, b64e, issued_at_now, sign_statement, verify_statement
from vendors.models import Vendor

from .conftest import Holder, pub

pytestmark = pytest.mark.django_db


def cluster_statement(
    signer: OrgKeys, vendor: Vendor, cluster: OrgKeys, **override: Any
) -> dict[str, str]:
    payload = {
        "type": "proxy-cluster",
        "vendor_id": str(vendor.public_id),
        "issued_at": issued_at_now(),
        "cluster_id": cluster_id_for(cluster.signing_public),
        "name": "eu-west production",
        "signing_key": b64e(cluster.signing_public),
        "encryption_key": b64e(cluster.encryption_public),
        **override,
    }
    return sign_statement("proxy-cluster", payload, signer.signing_key)


def revocation(signer: OrgKeys, vendor: Vendor, cluster_id: str) -> dict[str, str]:
    payload = {
        "type": "proxy-cluster-revocation",
        "vendor_id": str(vendor.public_id),
        "issued_at": issued_at_now(),
        "cluster_id": cluster_id,
    }
    return sign_statement("proxy-cluster-revocation", payload, signer.signing_key)


@pytest.fixture
def cluster_keys() -> OrgKeys:
    return OrgKeys.generate()


@pytest.fixture
def cluster(
    vendor: Vendor,
    vendor_root: OrgRootKey,
    vendor_root_keys: OrgKeys,
    alice_key: Holder,
    cluster_keys: OrgKeys,
) -> ProxyCluster:
    return clusters.proxy_cluster_register(
        vendor=vendor,
        actor=alice_key.user,
        **pub(cluster_keys),
        statement=cluster_statement(vendor_root_keys, vendor, cluster_keys),
    )


def test_registration_stores_the_vendor_signed_cluster_statement(
    cluster: ProxyCluster, cluster_keys: OrgKeys, vendor_root_keys: OrgKeys, vendor: Vendor
) -> None:
    assert cluster.cluster_id == cluster_id_for(cluster_keys.signing_public)
    assert cluster.name == "eu-west production"
    assert cluster.status == ClusterStatus.ACTIVE
    payload = verify_statement(
        cluster.statement.statement,
        expected_type="proxy-cluster",
        public_key=vendor_root_keys.signing_public,
    )
    assert payload["encryption_key"] == b64e(cluster_keys.encryption_public)
    assert list(selectors.active_cluster_statements(vendor=vendor)) == [cluster.statement]
    assert AuditEvent.objects.filter(action="proxy_cluster.registered").count() == 1


@pytest.mark.parametrize(
    "override",
    [
        {"signing_key": b64e(OrgKeys.generate().signing_public)},
        {"encryption_key": b64e(OrgKeys.generate().encryption_public)},
        {"cluster_id": "c-00000000000000000000"},
        {"vendor_id": "another-vendor"},
        {"name": ""},
    ],
    ids=["signing_key", "encryption_key", "cluster_id", "vendor_id", "empty-name"],
)
def test_registration_rejects_a_payload_that_differs_from_the_pasted_keys(
    vendor: Vendor,
    vendor_root: OrgRootKey,
    vendor_root_keys: OrgKeys,
    alice_key: Holder,
    cluster_keys: OrgKeys,
    override: dict[str, str],
) -> None:
    statement = cluster_statement(vendor_root_keys, vendor, cluster_keys, **override)
    with pytest.raises(StatementRejectedError):
        clusters.proxy_cluster_register(
            vendor=vendor, actor=alice_key.user, **pub(cluster_keys), statement=statement
        )
    assert not ProxyCluster.objects.exists()


def test_registration_rejects_a_statement_not_signed_by_this_vendors_root(
    vendor: Vendor, vendor_root: OrgRootKey, alice_key: Holder, cluster_keys: OrgKeys
) -> None:
    statement = cluster_statement(OrgKeys.generate(), vendor, cluster_keys)
    with pytest.raises(StatementRejectedError):
        clusters.proxy_cluster_register(
            vendor=vendor, actor=alice_key.user, **pub(cluster_keys), statement=statement
        )


def test_registration_requires_a_vendor_admin(
    vendor: Vendor,
    vendor_root: OrgRootKey,
    vendor_root_keys: OrgKeys,
    victor: Any,
    oscar: Any,
    cluster_keys: OrgKeys,
) -> None:
    statement = cluster_statement(vendor_root_keys, vendor, cluster_keys)
    for user in (victor, oscar):
        with pytest.raises(KeyringPermissionError):
            clusters.proxy_cluster_register(
                vendor=vendor, actor=user, **pub(cluster_keys), statement=statement
            )


def test_revocation_marks_the_cluster_revoked_and_keeps_the_statement(
    cluster: ProxyCluster, vendor: Vendor, vendor_root_keys: OrgKeys, alice_key: Holder
) -> None:
    statement = revocation(vendor_root_keys, vendor, cluster.cluster_id)

    revoked = clusters.proxy_cluster_revoke(
        cluster=cluster, actor=alice_key.user, statement=statement
    )

    assert revoked.status == ClusterStatus.REVOKED
    assert revoked.revocation is not None and revoked.revocation.statement == statement
    assert list(selectors.revocation_statements(vendor=vendor)) == [revoked.revocation]
    assert list(selectors.active_cluster_statements(vendor=vendor)) == []
    assert AuditEvent.objects.filter(action="proxy_cluster.revoked").count() == 1
    with pytest.raises(KeyringConflictError):
        clusters.proxy_cluster_revoke(cluster=cluster, actor=alice_key.user, statement=statement)


def test_revocation_rejects_another_clusters_id_and_forged_signatures(
    cluster: ProxyCluster, vendor: Vendor, vendor_root_keys: OrgKeys, alice_key: Holder
) -> None:
    for statement in (
        revocation(vendor_root_keys, vendor, "c-11111111111111111111"),
        revocation(OrgKeys.generate(), vendor, cluster.cluster_id),
        cluster.statement.statement,  # a registration is not a revocation
    ):
        with pytest.raises(StatementRejectedError):
            clusters.proxy_cluster_revoke(
                cluster=cluster, actor=alice_key.user, statement=statement
            )
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.ACTIVE


def test_a_revoked_cluster_key_can_never_be_registered_again(
    cluster: ProxyCluster,
    cluster_keys: OrgKeys,
    vendor: Vendor,
    vendor_root_keys: OrgKeys,
    alice_key: Holder,
) -> None:
    clusters.proxy_cluster_revoke(
        cluster=cluster,
        actor=alice_key.user,
        statement=revocation(vendor_root_keys, vendor, cluster.cluster_id),
    )
    with pytest.raises(KeyringConflictError):
        clusters.proxy_cluster_register(
            vendor=vendor,
            actor=alice_key.user,
            **pub(cluster_keys),
            statement=cluster_statement(vendor_root_keys, vendor, cluster_keys),
        )
