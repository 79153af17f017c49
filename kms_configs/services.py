"""Every write of the kms_configs app; one transaction and one audit event per call.

Audit granularity: a policy submission is ONE state change (the new policy version together
with the sealed blobs it names, stored atomically), so it writes one ``tenant_policy.signed``
event whose data lists the config ids and digests it sealed; there is no separate
``kms_config.sealed`` event per blob.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction

from audit.actors import Actor
from audit.services import record
from keyring.models import ClusterStatus, OrgRootKey, ProxyCluster, RootKeyStatus
from kms_configs.changes import change_record
from kms_configs.errors import PolicyConflictError, PolicyRejectedError
from kms_configs.models import (
    ChangeKind,
    ConfigId,
    ConfigKind,
    PolicyCluster,
    SealedConfig,
    TenantPolicy,
)
from kms_configs.policy import MAX_CONFIG_ID, ParsedPolicy, PolicyEntry, parse_policy
from opencmk_crypto import (
    SealError,
    StatementError,
    b64d,
    content_digest,
    kid,
    validate_sealed_structure,
    verify_statement,
)
from tenants.models import Tenant, TenantStatus

_ID_ATTEMPTS = 16


def _actor_for(actor: Any) -> Actor:
    return actor if isinstance(actor, Actor) else Actor.for_user(actor)


def _user_of(actor: Any) -> Any:
    return None if isinstance(actor, Actor) else actor


@transaction.atomic
def config_id_reserve(*, tenant: Tenant, actor: Any, kind: str) -> int:
    """A fresh random config id for the browser to seal a new config under."""
    if kind not in ConfigKind.values:
        raise PolicyRejectedError("kind must be kms or logging.")
    for _ in range(_ID_ATTEMPTS):
        candidate = secrets.randbelow(MAX_CONFIG_ID) + 1
        try:
            with transaction.atomic():
                ConfigId.objects.create(config_id=candidate, tenant=tenant, kind=kind)
        except IntegrityError:
            continue  # collision with another tenant's id: draw again
        record(
            action="kms_config.id_reserved",
            actor=_actor_for(actor),
            vendor=tenant.vendor,
            tenant=tenant,
            target=str(candidate),
            data={"config_id": candidate, "kind": kind},
        )
        return candidate
    raise PolicyRejectedError("Could not allocate a config id; try again.")  # pragma: no cover


def _verified_payload(tenant: Tenant, statement: object) -> dict[str, Any]:
    root = OrgRootKey.objects.filter(tenant=tenant, status=RootKeyStatus.APPROVED).first()
    if root is None:
        raise PolicyRejectedError("The tenant root key is not approved by the vendor yet.")
    if not isinstance(statement, Mapping):
        raise PolicyRejectedError("The policy must be a signed statement object.")
    try:
        payload = verify_statement(
            statement, expected_type="tenant-policy", public_key=b64d(root.signing_public)
        )
    except StatementError:
        raise PolicyRejectedError("The policy is not signed by the tenant's root key.") from None
    if payload.get("tenant_id") != tenant.tenant_id:
        raise PolicyRejectedError("The policy names another tenant.")
    if payload.get("vendor_id") != str(tenant.vendor.public_id):
        raise PolicyRejectedError("The policy names another vendor.")
    return payload


def _check_clusters(tenant: Tenant, cluster_ids: list[str]) -> list[ProxyCluster]:
    found = list(
        ProxyCluster.objects.filter(
            vendor_id=tenant.vendor_id, cluster_id__in=cluster_ids, status=ClusterStatus.ACTIVE
        )
    )
    if len(found) != len(cluster_ids):
        raise PolicyRejectedError("The policy allows a cluster that is unknown or revoked.")
    return found


def _upload(tenant: Tenant, item: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    sealed = item.get("sealed", item)
    if not isinstance(sealed, Mapping):
        raise PolicyRejectedError("Each sealed config must be an object.")
    try:
        validate_sealed_structure(sealed)
    except SealError as exc:
        raise PolicyRejectedError(f"Malformed sealed config: {exc}.") from None
    if sealed["tenant_id"] != tenant.tenant_id:
        raise PolicyRejectedError("A sealed config names another tenant.")
    label = item.get("label", "") if "sealed" in item else ""
    if not isinstance(label, str) or len(label) > 200:
        raise PolicyRejectedError("A config label must be at most 200 characters.")
    return dict(sealed), label


def _store_blobs(
    tenant: Tenant, user: Any, parsed: ParsedPolicy, uploads: Sequence[Mapping[str, Any]]
) -> list[int]:
    blobs = [_upload(tenant, item) for item in uploads]
    ids = [b["config_id"] for b, _ in blobs]
    if len(set(ids)) != len(ids):
        raise PolicyRejectedError("Two sealed configs share a config id.")
    reserved = {
        c.config_id: c.kind for c in ConfigId.objects.filter(tenant=tenant, config_id__in=ids)
    }
    entries = {e.config_id: e for e in parsed.entries}
    for blob, label in blobs:
        cid = blob["config_id"]
        if reserved.get(cid) != blob["kind"]:
            raise PolicyRejectedError(f"Config id {cid} is not reserved for this tenant.")
        entry = entries.get(cid)
        if entry is None:
            raise PolicyRejectedError(f"Sealed config {cid} is not named by the policy.")
        SealedConfig.objects.filter(config_id=cid, current=True).update(current=False)
        SealedConfig.objects.create(
            tenant=tenant,
            config_id=cid,
            kind=blob["kind"],
            provider=entry.provider,
            label=label,
            sealed=blob,
            content_digest=content_digest(blob),
            created_by=user,
        )
    return ids


def _check_entries(
    tenant: Tenant, parsed: ParsedPolicy, clusters: list[ProxyCluster], root_enc: str
) -> None:
    """Every config in use must have a current blob with the signed digest, sealed to the
    tenant root and to every allowed cluster (else a proxy would reject the bundle)."""
    ids = [e.config_id for e in parsed.entries]
    reserved = dict(
        ConfigId.objects.filter(tenant=tenant, config_id__in=ids).values_list("config_id", "kind")
    )
    current = {
        s.config_id: s
        for s in SealedConfig.objects.filter(tenant=tenant, config_id__in=ids, current=True)
    }
    needed = {kid(b64d(root_enc))} | {kid(b64d(c.encryption_public)) for c in clusters}
    for entry in parsed.entries:
        if reserved.get(entry.config_id) != entry.kind:
            raise PolicyRejectedError(f"Config id {entry.config_id} is not this tenant's.")
        if entry.in_use:
            _check_blob(entry, current.get(entry.config_id), needed)


def _check_blob(entry: PolicyEntry, blob: SealedConfig | None, needed: set[str]) -> None:
    if blob is None or blob.content_digest != entry.content_digest:
        raise PolicyRejectedError(
            f"The digest of config {entry.config_id} does not match its sealed blob."
        )
    recipients = {r["kid"] for r in blob.sealed["recipients"]}
    if not needed <= recipients:
        raise PolicyRejectedError(
            f"Config {entry.config_id} is not sealed to the tenant root and every allowed cluster."
        )


def _removed_clusters(
    tenant: Tenant, parsed: ParsedPolicy, latest: TenantPolicy | None
) -> tuple[list[str], set[str]]:
    """Cluster ids the current policy allows and the new one drops, and their X25519 kids."""
    if latest is None:
        return [], set()
    removed = sorted(set(latest.payload.get("clusters", [])) - set(parsed.clusters))
    keys = ProxyCluster.objects.filter(
        vendor_id=tenant.vendor_id, cluster_id__in=removed
    ).values_list("encryption_public", flat=True)
    return removed, {kid(b64d(k)) for k in keys}


def _sealed_to(tenant: Tenant, parsed: ParsedPolicy, kids: set[str]) -> dict[int, str]:
    """Digests of the current blobs the policy names that any of ``kids`` can open."""
    if not kids:
        return {}
    ids = [e.config_id for e in parsed.entries]
    return {
        s.config_id: s.content_digest
        for s in SealedConfig.objects.filter(tenant=tenant, config_id__in=ids, current=True)
        if kids & {r["kid"] for r in s.sealed["recipients"]}
    }


def _check_resealed(
    tenant: Tenant, parsed: ParsedPolicy, removed_kids: set[str], exposed: dict[int, str]
) -> None:
    """A policy that drops a cluster re-seals every blob that cluster could open, in the same
    submission (disabled configs too: they may be re-enabled). Dropping its recipient entry is
    not enough, the CEK it may hold would still open the same ciphertext, so the digest must
    change as well. Checked after the upload, so a partial re-seal stores nothing."""
    still = _sealed_to(tenant, parsed, removed_kids)
    if still:
        raise PolicyRejectedError(
            f"Config {min(still)} is still sealed to a cluster this policy removes; "
            "re-seal every config without it."
        )
    current = dict(
        SealedConfig.objects.filter(
            tenant=tenant, config_id__in=list(exposed), current=True
        ).values_list("config_id", "content_digest")
    )
    for cid, digest in exposed.items():
        if current.get(cid) == digest:
            raise PolicyRejectedError(
                f"Config {cid} keeps the ciphertext a removed cluster could open; "
                "re-seal it under a fresh key."
            )


@transaction.atomic
def policy_submit(
    *,
    tenant: Tenant,
    actor: Any,
    statement: object,
    sealed_configs: Sequence[Mapping[str, Any]] = (),
) -> TenantPolicy:
    """Store a tenant-signed policy and the sealed blobs it names; all or nothing."""
    tenant = Tenant.objects.select_for_update().select_related("vendor").get(pk=tenant.pk)
    payload = _verified_payload(tenant, statement)
    parsed = parse_policy(payload)
    latest = TenantPolicy.objects.filter(tenant=tenant, current=True).first()
    if latest is not None and parsed.version <= latest.version:
        raise PolicyConflictError(
            f"The policy version must be greater than {latest.version}; reload and sign again."
        )
    clusters = _check_clusters(tenant, parsed.clusters)
    removed, removed_kids = _removed_clusters(tenant, parsed, latest)
    exposed = _sealed_to(tenant, parsed, removed_kids)
    user = _user_of(actor)
    uploaded = _store_blobs(tenant, user, parsed, sealed_configs)
    root = OrgRootKey.objects.get(tenant=tenant)
    _check_entries(tenant, parsed, clusters, root.encryption_public)
    _check_resealed(tenant, parsed, removed_kids, exposed)
    assert isinstance(statement, Mapping)
    policy = _store_policy(tenant, user, statement, payload, parsed, latest)
    change_record(
        vendor_pk=tenant.vendor_id,
        kind=ChangeKind.POLICY,
        tenant_pk=tenant.pk,
        tenant_ref=tenant.tenant_id,
    )
    record(
        action="tenant_policy.signed",
        actor=_actor_for(actor),
        vendor=tenant.vendor,
        tenant=tenant,
        target=f"policy v{parsed.version}",
        data={
            "version": parsed.version,
            "signer_kid": policy.signer_kid,
            "sealed_config_ids": uploaded,
            "configs": [
                {"config_id": e.config_id, "kind": e.kind, "state": e.state} for e in parsed.entries
            ],
            "clusters": parsed.clusters,
            "clusters_removed": removed,
            "leasing": parsed.leasing,
        },
    )
    return policy


def _store_policy(
    tenant: Tenant,
    user: Any,
    statement: Mapping[str, Any],
    payload: dict[str, Any],
    parsed: ParsedPolicy,
    latest: TenantPolicy | None,
) -> TenantPolicy:
    if latest is not None:
        TenantPolicy.objects.filter(pk=latest.pk).update(current=False)
        PolicyCluster.objects.filter(tenant=tenant, current=True).update(current=False)
    policy = TenantPolicy.objects.create(
        tenant=tenant,
        version=parsed.version,
        statement=dict(statement),
        payload=payload,
        signer_kid=str(statement["kid"]),
        signed_by=user,
    )
    PolicyCluster.objects.bulk_create(
        PolicyCluster(policy=policy, tenant=tenant, cluster_id=c) for c in parsed.clusters
    )
    tenant.status = TenantStatus.ACTIVE
    tenant.policy_version = parsed.version
    tenant.save(update_fields=["status", "policy_version", "updated_at"])
    return policy
