"""The verification chain of DESIGN.md §6.2 (docs/sync-protocol.md §5).

Pure functions: statements and sealed blobs in, verified values out, `BundleRejectedError` with a
short reason class otherwise. Nothing here touches the network or the runtime state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import nacl.public

from opencmk_crypto import CryptoError, b64d, content_digest, open_config, verify_statement

_STATES = frozenset({"primary", "active", "disabled"})
_MAX_CONFIG_ID = 2**31 - 1


class BundleRejectedError(Exception):
    """A bundle failed verification; `reason` is a stable class name for events and heartbeats."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


class ClusterRevokedError(BundleRejectedError):
    def __init__(self) -> None:
        super().__init__("cluster_revoked", "the vendor revoked this proxy cluster")


@dataclass(frozen=True)
class ClusterIdentity:
    cluster_id: str
    signing_public: bytes
    encryption_private: nacl.public.PrivateKey = field(repr=False)

    @property
    def encryption_public(self) -> bytes:
        return bytes(self.encryption_private.public_key)


@dataclass(frozen=True)
class VerifiedConfig:
    config_id: int
    provider: str
    state: str
    content_digest: str
    plaintext: Mapping[str, Any] | None = field(default=None, repr=False)  # None when disabled


@dataclass(frozen=True)
class VerifiedTenant:
    tenant_id: str
    vendor_id: str | int
    version: int
    policy_bytes: bytes = field(repr=False)
    kms_configs: Mapping[int, VerifiedConfig]
    logging: VerifiedConfig | None
    leasing_enabled: bool
    leasing_max_age_s: float


def _statement(statement: object, type_: str, key: bytes, reason: str) -> dict[str, Any]:
    if not isinstance(statement, Mapping):
        raise BundleRejectedError("malformed_bundle", f"{type_} statement missing")
    try:
        return verify_statement(statement, expected_type=type_, public_key=key)
    except CryptoError as exc:
        raise BundleRejectedError(reason, f"{type_}: {exc}") from None


def verify_cluster(
    clusters: Sequence[object],
    revocations: Sequence[object],
    *,
    vendor_root: bytes,
    me: ClusterIdentity,
) -> str | int:
    """Check the vendor root certifies this cluster and has not revoked it; return vendor id."""
    for statement in revocations:
        try:
            payload = verify_statement(
                statement,  # type: ignore[arg-type]
                expected_type="proxy-cluster-revocation",
                public_key=vendor_root,
            )
        except CryptoError:
            continue  # a forged revocation is ignored; a genuine one cannot be forged
        if payload.get("cluster_id") == me.cluster_id:
            raise ClusterRevokedError()
    for statement in clusters:
        try:
            payload = verify_statement(
                statement,  # type: ignore[arg-type]
                expected_type="proxy-cluster",
                public_key=vendor_root,
            )
        except CryptoError:
            continue
        if payload.get("cluster_id") != me.cluster_id:
            continue
        keys_match = _b64_eq(payload.get("signing_key"), me.signing_public) and _b64_eq(
            payload.get("encryption_key"), me.encryption_public
        )
        if keys_match:
            return payload["vendor_id"]  # type: ignore[no-any-return]
    raise BundleRejectedError("cluster_not_certified", "no valid proxy-cluster statement for us")


def _b64_eq(value: object, expected: bytes) -> bool:
    try:
        return isinstance(value, str) and b64d(value) == expected
    except CryptoError:
        return False


def _policy_configs(policy: Mapping[str, Any]) -> list[tuple[int, str, str, str]]:
    entries = policy.get("kms_configs")
    if not isinstance(entries, list):
        raise BundleRejectedError("malformed_policy", "kms_configs must be a list")
    out: list[tuple[int, str, str, str]] = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise BundleRejectedError("malformed_policy", "kms_configs entry")
        cid, provider = entry.get("config_id"), entry.get("provider")
        state, digest = entry.get("state"), entry.get("content_digest")
        if not _config_id_ok(cid) or state not in _STATES:
            raise BundleRejectedError("malformed_policy", "config_id or state")
        if not isinstance(provider, str) or not isinstance(digest, str):
            raise BundleRejectedError("malformed_policy", "provider or content_digest")
        out.append((cid, provider, state, digest))  # type: ignore[arg-type]  # checked above
    if len({c[0] for c in out}) != len(out):
        raise BundleRejectedError("malformed_policy", "duplicate config_id")
    if sum(1 for c in out if c[2] == "primary") > 1:
        raise BundleRejectedError("malformed_policy", "more than one primary config")
    return out


def _config_id_ok(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _MAX_CONFIG_ID


def _open(
    sealed_by_key: Mapping[tuple[str, int], Mapping[str, Any]],
    *,
    kind: str,
    tenant_id: str,
    config_id: int,
    digest: str,
    me: ClusterIdentity,
) -> dict[str, Any]:
    sealed = sealed_by_key.get((kind, config_id))
    if sealed is None:
        raise BundleRejectedError("missing_config", f"{kind} config {config_id}")
    try:
        if content_digest(sealed) != digest:
            raise BundleRejectedError("digest_mismatch", f"{kind} config {config_id}")
        plaintext = open_config(
            sealed,
            private_key=me.encryption_private,
            tenant_id=tenant_id,
            config_id=config_id,
            kind=kind,
        )
    except CryptoError:
        # Covers AD mismatch (a config swapped from another tenant or id) and bad sealing.
        raise BundleRejectedError("seal_error", f"{kind} config {config_id}") from None
    try:
        value = json.loads(plaintext)
    except ValueError:
        raise BundleRejectedError("bad_config", f"{kind} config {config_id} is not JSON") from None
    if not isinstance(value, dict):
        raise BundleRejectedError("bad_config", f"{kind} config {config_id} is not an object")
    return value


def _index_sealed(sealed_configs: object) -> dict[tuple[str, int], Mapping[str, Any]]:
    if not isinstance(sealed_configs, list):
        raise BundleRejectedError("malformed_bundle", "sealed_configs must be a list")
    index: dict[tuple[str, int], Mapping[str, Any]] = {}
    for sealed in sealed_configs:
        if isinstance(sealed, Mapping) and _config_id_ok(sealed.get("config_id")):
            index[(str(sealed.get("kind")), sealed["config_id"])] = sealed
    return index


def _leasing(policy: Mapping[str, Any]) -> tuple[bool, float]:
    leasing = policy.get("leasing") or {}
    if not isinstance(leasing, Mapping):
        raise BundleRejectedError("malformed_policy", "leasing")
    enabled = leasing.get("enabled") is True
    max_age = leasing.get("max_age_s", 3600)
    if not isinstance(max_age, int | float) or isinstance(max_age, bool) or max_age <= 0:
        raise BundleRejectedError("malformed_policy", "leasing.max_age_s")
    return enabled, float(max_age)


def _check_policy_header(
    policy: Mapping[str, Any], *, tenant_id: str, vendor_id: object, cluster_id: str
) -> int:
    if policy.get("tenant_id") != tenant_id:
        raise BundleRejectedError("tenant_mismatch", "policy is for another tenant")
    if policy.get("vendor_id") != vendor_id:
        raise BundleRejectedError("vendor_mismatch", "policy is for another vendor")
    version = policy.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise BundleRejectedError("malformed_policy", "version")
    clusters = policy.get("clusters")
    if not isinstance(clusters, list) or cluster_id not in clusters:
        raise BundleRejectedError("cluster_not_allowed", "this cluster is not in the policy")
    return version


def verify_tenant_bundle(
    bundle: Mapping[str, Any],
    *,
    vendor_root: bytes,
    vendor_id: str | int,
    me: ClusterIdentity,
    seen: tuple[int, bytes] | None,
) -> VerifiedTenant | None:
    """Verify one tenant bundle. `seen` = (version, policy payload bytes) accepted before.

    Returns None when the bundle repeats the policy already applied (nothing to do).
    """
    tenant_id = bundle.get("tenant_id")
    if not isinstance(tenant_id, str) or not tenant_id:
        raise BundleRejectedError("malformed_bundle", "tenant_id")
    root = _statement(bundle.get("tenant_root"), "tenant-root", vendor_root, "bad_signature")
    if root.get("tenant_id") != tenant_id:
        raise BundleRejectedError("tenant_mismatch", "tenant-root is for another tenant")
    if root.get("vendor_id") != vendor_id:
        raise BundleRejectedError("vendor_mismatch", "tenant-root is for another vendor")
    try:
        tenant_key = b64d(root.get("signing_key"))  # type: ignore[arg-type]
    except (CryptoError, TypeError):
        raise BundleRejectedError("malformed_bundle", "tenant-root signing_key") from None
    policy_statement = bundle.get("policy")
    policy = _statement(policy_statement, "tenant-policy", tenant_key, "bad_signature")
    policy_bytes = b64d(policy_statement["payload"])  # type: ignore[index]
    version = _check_policy_header(
        policy, tenant_id=tenant_id, vendor_id=vendor_id, cluster_id=me.cluster_id
    )
    if seen is not None:
        if version < seen[0]:
            raise BundleRejectedError("policy_rollback", f"version {version} < {seen[0]}")
        if version == seen[0]:
            if policy_bytes != seen[1]:
                raise BundleRejectedError("policy_equivocation", f"two policies v{version}")
            return None
    return _open_all(bundle, policy, tenant_id, vendor_id, version, policy_bytes, me)


def _open_all(
    bundle: Mapping[str, Any],
    policy: Mapping[str, Any],
    tenant_id: str,
    vendor_id: str | int,
    version: int,
    policy_bytes: bytes,
    me: ClusterIdentity,
) -> VerifiedTenant:
    sealed = _index_sealed(bundle.get("sealed_configs", []))
    configs: dict[int, VerifiedConfig] = {}
    for cid, provider, state, digest in _policy_configs(policy):
        plaintext = None
        if state != "disabled":
            plaintext = _open(
                sealed, kind="kms", tenant_id=tenant_id, config_id=cid, digest=digest, me=me
            )
            if plaintext.get("provider") != provider:
                raise BundleRejectedError("bad_config", f"provider of config {cid}")
        configs[cid] = VerifiedConfig(cid, provider, state, digest, plaintext)
    logging = _logging(policy, sealed, tenant_id, me)
    enabled, max_age = _leasing(policy)
    return VerifiedTenant(
        tenant_id, vendor_id, version, policy_bytes, configs, logging, enabled, max_age
    )


def _logging(
    policy: Mapping[str, Any],
    sealed: Mapping[tuple[str, int], Mapping[str, Any]],
    tenant_id: str,
    me: ClusterIdentity,
) -> VerifiedConfig | None:
    entry = policy.get("logging")
    if entry is None:
        return None
    if not isinstance(entry, Mapping) or not _config_id_ok(entry.get("config_id")):
        raise BundleRejectedError("malformed_policy", "logging")
    cid, digest = entry["config_id"], entry.get("content_digest")
    if not isinstance(digest, str):
        raise BundleRejectedError("malformed_policy", "logging.content_digest")
    plaintext = _open(
        sealed, kind="logging", tenant_id=tenant_id, config_id=cid, digest=digest, me=me
    )
    return VerifiedConfig(cid, str(plaintext.get("provider", "")), "active", digest, plaintext)
