"""What the portal's browser code does, in Python (same opencmk_crypto formats, same services).

Used by the demo seeding and by tests to provision vendors, tenants, clusters and policies
exactly as a person in the portal would: key pairs are made here (standing in for the
browser), only public keys, passphrase-wrapped or sealed secrets and signed statements reach
the broker's services.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import nacl.public

from keyring import services as keyring
from keyring.clusters import proxy_cluster_register
from keyring.models import OrgRootKey, ProxyCluster, RootKeyStatus, UserKey
from keyring.validation import cluster_id_for
from kms_configs.models import TenantPolicy
from kms_configs.services import config_id_reserve, policy_submit
from opencmk_crypto import (
    MEMLIMIT_INTERACTIVE,
    OPSLIMIT_INTERACTIVE,
    OrgKeys,
    b64d,
    b64e,
    content_digest,
    issued_at_now,
    seal_config,
    sign_statement,
    unwrap_secret,
    wrap_secret,
)
from tenants.models import Tenant
from vendors.models import Vendor


def _public(keys: OrgKeys) -> dict[str, str]:
    return {
        "signing_public": b64e(keys.signing_public),
        "encryption_public": b64e(keys.encryption_public),
    }


def user_keys(user: Any, passphrase: str) -> OrgKeys:
    """The user's key pair: created (wrapped with ``passphrase``) or unlocked if it exists."""
    stored = UserKey.objects.filter(user=user).first()
    if stored is not None:
        return OrgKeys.from_secret_bytes(unwrap_secret(stored.wrapped_secret, passphrase))
    keys = OrgKeys.generate()
    blob = wrap_secret(
        keys.to_secret_bytes(),
        passphrase,
        opslimit=OPSLIMIT_INTERACTIVE,
        memlimit=MEMLIMIT_INTERACTIVE,
    )
    keyring.user_key_create(user=user, **_public(keys), wrapped_secret=blob)
    return keys


def _seal_to(secret: bytes, member: OrgKeys) -> str:
    return b64e(nacl.public.SealedBox(member.encryption_key.public_key).encrypt(secret))


def _open_share(root: OrgRootKey, user: Any, member: OrgKeys) -> OrgKeys:
    share = root.shares.get(recipient=user)
    secret = nacl.public.SealedBox(member.encryption_key).decrypt(b64d(share.sealed_secret))
    return OrgKeys.from_secret_bytes(secret)


def vendor_root_keys(vendor: Vendor, admin: Any, member: OrgKeys) -> OrgKeys:
    """The vendor root: opened from the admin's share, or created by the admin's browser."""
    root = OrgRootKey.objects.filter(vendor=vendor).first()
    if root is not None:
        return _open_share(root, admin, member)
    keys = OrgKeys.generate()
    keyring.vendor_root_create(
        vendor=vendor,
        user=admin,
        **_public(keys),
        recipient_kid=UserKey.objects.get(user=admin).kid,
        sealed_secret=_seal_to(keys.to_secret_bytes(), member),
    )
    return keys


def tenant_root_keys(
    tenant: Tenant, admin: Any, member: OrgKeys, *, vendor_admin: Any, vendor_root: OrgKeys
) -> OrgKeys:
    """The tenant root (created if missing) and its vendor-signed ``tenant-root`` approval."""
    root = OrgRootKey.objects.filter(tenant=tenant).first()
    if root is not None:
        keys = _open_share(root, admin, member)
    else:
        keys = OrgKeys.generate()
        root = keyring.tenant_root_create(
            tenant=tenant,
            user=admin,
            **_public(keys),
            recipient_kid=UserKey.objects.get(user=admin).kid,
            sealed_secret=_seal_to(keys.to_secret_bytes(), member),
        )
    if root.status == RootKeyStatus.PENDING_APPROVAL:
        payload = {
            "type": "tenant-root",
            "vendor_id": str(tenant.vendor.public_id),
            "issued_at": issued_at_now(),
            "tenant_id": tenant.tenant_id,
            "signing_key": b64e(keys.signing_public),
            "encryption_key": b64e(keys.encryption_public),
        }
        statement = sign_statement("tenant-root", payload, vendor_root.signing_key)
        keyring.tenant_root_approve(root=root, actor=vendor_admin, statement=statement)
    return keys


def cluster_register(
    vendor: Vendor, admin: Any, vendor_root: OrgKeys, *, name: str, keys: OrgKeys | None = None
) -> tuple[OrgKeys, ProxyCluster]:
    """``keygen``'s key pairs, pasted into the portal, certified by the vendor root."""
    keys = keys or OrgKeys.generate()
    cluster_id = cluster_id_for(keys.signing_public)
    payload = {
        "type": "proxy-cluster",
        "vendor_id": str(vendor.public_id),
        "issued_at": issued_at_now(),
        "cluster_id": cluster_id,
        "name": name,
        "signing_key": b64e(keys.signing_public),
        "encryption_key": b64e(keys.encryption_public),
    }
    statement = sign_statement("proxy-cluster", payload, vendor_root.signing_key)
    cluster = proxy_cluster_register(
        vendor=vendor, actor=admin, **_public(keys), statement=statement
    )
    return keys, cluster


def proxy_env(keys: OrgKeys, cluster: ProxyCluster, vendor_root: OrgKeys) -> dict[str, str]:
    """The proxy's private environment, as ``keygen`` prints it and the portal shows it."""
    return {
        "TSP_CLUSTER_ID": cluster.cluster_id,
        "TSP_CLUSTER_SIGNING_KEY": b64e(bytes(keys.signing_key)),
        "TSP_CLUSTER_ENCRYPTION_KEY": b64e(bytes(keys.encryption_key)),
        "TSP_VENDOR_ROOT_KEY": b64e(vendor_root.signing_public),
    }


@dataclass
class ConfigDraft:
    """A config as the tenant admin's browser holds it: plaintext only in memory here."""

    config: dict[str, Any]
    kind: str = "kms"
    state: str = "primary"
    label: str = ""
    config_id: int | None = None
    sealed: dict[str, Any] | None = field(default=None, repr=False)


@dataclass
class TenantSigner:
    """A tenant admin's browser with the tenant root unlocked."""

    tenant: Tenant
    admin: Any
    root: OrgKeys

    def seal(self, draft: ConfigDraft, clusters: Sequence[ProxyCluster]) -> ConfigDraft:
        if draft.config_id is None:
            draft.config_id = config_id_reserve(
                tenant=self.tenant, actor=self.admin, kind=draft.kind
            )
        recipients = [self.root.encryption_public] + [b64d(c.encryption_public) for c in clusters]
        draft.sealed = seal_config(
            kind=draft.kind,
            tenant_id=self.tenant.tenant_id,
            config_id=draft.config_id,
            plaintext=json.dumps(draft.config).encode(),
            recipients=recipients,
        )
        return draft

    def policy_payload(
        self,
        drafts: Sequence[ConfigDraft],
        clusters: Sequence[ProxyCluster],
        *,
        version: int | None = None,
        leasing: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        latest = TenantPolicy.objects.filter(tenant=self.tenant, current=True).first()
        kms = [d for d in drafts if d.kind == "kms"]
        logging = next((d for d in drafts if d.kind == "logging"), None)
        return {
            "type": "tenant-policy",
            "vendor_id": str(self.tenant.vendor.public_id),
            "issued_at": issued_at_now(),
            "tenant_id": self.tenant.tenant_id,
            "version": version if version is not None else (latest.version + 1 if latest else 1),
            "kms_configs": [
                {
                    "config_id": d.config_id,
                    "provider": d.config["provider"],
                    "state": d.state,
                    "content_digest": content_digest(d.sealed or {}),
                }
                for d in kms
            ],
            "logging": None
            if logging is None
            else {
                "config_id": logging.config_id,
                "content_digest": content_digest(logging.sealed or {}),
            },
            "leasing": dict(leasing or {"enabled": False, "max_age_s": 3600}),
            "clusters": [c.cluster_id for c in clusters],
        }

    def sign(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return sign_statement("tenant-policy", dict(payload), self.root.signing_key)

    def publish(
        self,
        drafts: Sequence[ConfigDraft],
        clusters: Sequence[ProxyCluster],
        *,
        upload: Sequence[ConfigDraft] | None = None,
        **options: Any,
    ) -> TenantPolicy:
        """Seal what is new, sign the next policy, submit both (one service call)."""
        for draft in drafts:
            if draft.sealed is None:
                self.seal(draft, clusters)
        sent = drafts if upload is None else upload
        statement = self.sign(self.policy_payload(drafts, clusters, **options))
        return policy_submit(
            tenant=self.tenant,
            actor=self.admin,
            statement=statement,
            sealed_configs=[{"sealed": d.sealed, "label": d.label} for d in sent],
        )
