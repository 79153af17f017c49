"""Proxy cluster registration and revocation: writes certified by the vendor root key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.actors import Actor
from audit.services import record
from keyring import validation as check
from keyring.errors import KeyringConflictError, KeyringPermissionError, StatementRejectedError
from keyring.models import ClusterStatus, ProxyCluster, StatementType
from keyring.services import statement_store, vendor_root_public
from vendors.models import Role, Vendor


def _require_vendor_admin(vendor: Vendor, user: Any) -> None:
    if not vendor.memberships.filter(user=user, role=Role.ADMIN).exists():
        raise KeyringPermissionError("Only vendor admins can manage proxy clusters.")


@transaction.atomic
def proxy_cluster_register(
    *,
    vendor: Vendor,
    actor: Any,
    signing_public: object,
    encryption_public: object,
    statement: object,
) -> ProxyCluster:
    """The admin pasted the keys ``keygen`` printed; their browser signed ``proxy-cluster``.

    The broker checks the signature under the vendor root and that the payload names exactly
    the pasted keys and the cluster id derived from them, so a tampered page cannot certify a
    different key than the one the admin saw.
    """
    _require_vendor_admin(vendor, actor)
    sign, _enc, _kid = check.key_pair(signing_public, encryption_public)
    payload = check.verified_payload(
        statement,
        expected_type=StatementType.PROXY_CLUSTER,
        signer_public=vendor_root_public(vendor),
    )
    cluster_id = check.cluster_id_for(sign)
    check.require_fields(
        payload,
        {
            "vendor_id": str(vendor.public_id),
            "cluster_id": cluster_id,
            "signing_key": signing_public,
            "encryption_key": encryption_public,
        },
    )
    name = payload.get("name")
    if not isinstance(name, str) or not 0 < len(name.strip()) <= check.MAX_CLUSTER_NAME:
        raise StatementRejectedError("The statement's name must be 1-200 characters.")
    if ProxyCluster.objects.filter(cluster_id=cluster_id).exists():
        raise KeyringConflictError("This cluster key is already registered (or was revoked).")
    assert isinstance(statement, Mapping)
    stored = statement_store(
        vendor=vendor, tenant=None, statement=statement, payload=payload, subject=cluster_id
    )
    cluster = ProxyCluster.objects.create(
        vendor=vendor,
        cluster_id=cluster_id,
        name=name.strip(),
        signing_public=str(signing_public),
        encryption_public=str(encryption_public),
        statement=stored,
        created_by=actor,
    )
    record(
        action="proxy_cluster.registered",
        actor=Actor.for_user(actor),
        vendor=vendor,
        target=cluster,
        data={"cluster_id": cluster_id, "name": cluster.name, "signer_kid": stored.signer_kid},
    )
    return cluster


@transaction.atomic
def proxy_cluster_revoke(*, cluster: ProxyCluster, actor: Any, statement: object) -> ProxyCluster:
    """A vendor-root-signed revocation: every proxy of the cluster stops serving (fail closed)."""
    cluster = (
        ProxyCluster.objects.select_for_update(of=("self",))
        .select_related("vendor")
        .get(pk=cluster.pk)
    )
    vendor = cluster.vendor
    _require_vendor_admin(vendor, actor)
    if cluster.status == ClusterStatus.REVOKED:
        raise KeyringConflictError("This cluster is already revoked.")
    payload = check.verified_payload(
        statement,
        expected_type=StatementType.PROXY_CLUSTER_REVOCATION,
        signer_public=vendor_root_public(vendor),
    )
    check.require_fields(
        payload, {"vendor_id": str(vendor.public_id), "cluster_id": cluster.cluster_id}
    )
    assert isinstance(statement, Mapping)
    cluster.revocation = statement_store(
        vendor=vendor, tenant=None, statement=statement, payload=payload, subject=cluster.cluster_id
    )
    cluster.status = ClusterStatus.REVOKED
    cluster.revoked_at = timezone.now()
    cluster.save(update_fields=["revocation", "status", "revoked_at"])
    record(
        action="proxy_cluster.revoked",
        actor=Actor.for_user(actor),
        vendor=vendor,
        target=cluster,
        data={"cluster_id": cluster.cluster_id, "signer_kid": cluster.revocation.signer_kid},
    )
    return cluster
