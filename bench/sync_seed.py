"""Seeding for bench/sync_propagation.py: one vendor, N tenants with valid signed policies.

Bulk inserts (what thousands of browser sessions would have produced, made here with the same
opencmk_crypto calls); the changes measured later go through the real services.
"""

from __future__ import annotations

import base64
import json
import os
import random
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

BATCH = 1000


def recreate_database(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


@dataclass
class SeededWorld:
    vendor: Any
    cluster: Any
    cluster_keys: Any
    tenant_pks: list[int]
    roots: dict[int, Any] = field(repr=False)
    seq: int = 0

    @property
    def cluster_id(self) -> str:
        return str(self.cluster.cluster_id)

    def change_one(self) -> tuple[str, int]:
        """A tenant admin edits its KMS config: new sealed blob and policy (real services)."""
        from audit.actors import Actor
        from kms_configs.browser import ConfigDraft, TenantSigner
        from kms_configs.models import ChangeLog
        from tenants.models import Tenant

        pk = random.choice(self.tenant_pks)
        tenant = Tenant.objects.select_related("vendor").get(pk=pk)
        signer = TenantSigner(tenant, Actor.system("bench"), self.roots[pk])
        draft = ConfigDraft(config=_vault_config(tenant.tenant_id, rotated=True))
        policy = signer.publish([draft], [self.cluster])
        self.seq = ChangeLog.objects.filter(vendor_id=self.vendor.pk).latest("id").id
        return tenant.tenant_id, policy.version


def _vault_config(tenant_id: str, *, rotated: bool = False) -> dict[str, Any]:
    return {
        "provider": "vault-transit",
        "address": "http://127.0.0.1:8200",
        "mount": "transit",
        "key_name": f"{tenant_id}{'-2' if rotated else ''}",
        "token": "bench-token",
    }


def _admin_and_vendor() -> tuple[Any, Any, Any]:
    from accounts.models import User
    from kms_configs import browser
    from vendors.models import Role, Vendor, VendorMembership

    vendor = Vendor.objects.create(name="Bench vendor")
    admin = User.objects.create_user(email="bench-admin@example.test")
    VendorMembership.objects.create(vendor=vendor, user=admin, role=Role.ADMIN)
    member = browser.user_keys(admin, "bench key passphrase")
    return vendor, admin, browser.vendor_root_keys(vendor, admin, member)


def seed(n: int) -> SeededWorld:
    from kms_configs import browser

    vendor, admin, vendor_root = _admin_and_vendor()
    cluster_keys, cluster = browser.cluster_register(vendor, admin, vendor_root, name="bench")
    tenants = _tenants(vendor, n)
    roots = _roots(vendor, vendor_root, tenants)
    _policies(vendor, tenants, roots, cluster)
    world = SeededWorld(vendor, cluster, cluster_keys, [t.pk for t in tenants], roots)
    from kms_configs.models import ChangeLog

    world.seq = ChangeLog.objects.filter(vendor_id=vendor.pk).latest("id").id
    from django.db import connection

    with connection.cursor() as cursor:  # planner statistics, as a long-running database has
        cursor.execute("ANALYZE")
    return world


def _tenants(vendor: Any, n: int) -> list[Any]:
    from tenants.models import Tenant

    rows = [
        Tenant(
            vendor=vendor,
            tenant_id=f"tenant-{i:05d}",
            name=f"Tenant {i}",
            status="active",
            policy_version=1,
        )
        for i in range(n)
    ]
    return Tenant.objects.bulk_create(rows, batch_size=BATCH)


def _roots(vendor: Any, vendor_root: Any, tenants: list[Any]) -> dict[int, Any]:
    from keyring.models import OrgRootKey, Statement
    from opencmk_crypto import OrgKeys, b64e, issued_at_now, sign_statement

    keys = {t.pk: OrgKeys.generate() for t in tenants}
    statements = []
    for t in tenants:
        payload = {
            "type": "tenant-root",
            "vendor_id": str(vendor.public_id),
            "issued_at": issued_at_now(),
            "tenant_id": t.tenant_id,
            "signing_key": b64e(keys[t.pk].signing_public),
            "encryption_key": b64e(keys[t.pk].encryption_public),
        }
        statements.append(
            Statement(
                type="tenant-root",
                signer_kid=vendor_root.kid,
                statement=sign_statement("tenant-root", payload, vendor_root.signing_key),
                payload=payload,
                vendor=vendor,
                tenant=t,
                subject=t.tenant_id,
            )
        )
    statements = Statement.objects.bulk_create(statements, batch_size=BATCH)
    OrgRootKey.objects.bulk_create(
        [
            OrgRootKey(
                tenant=t,
                kid=keys[t.pk].kid,
                signing_public=b64e(keys[t.pk].signing_public),
                encryption_public=b64e(keys[t.pk].encryption_public),
                status="approved",
                statement=s,
            )
            for t, s in zip(tenants, statements, strict=True)
        ],
        batch_size=BATCH,
    )
    return keys


def _policies(vendor: Any, tenants: list[Any], roots: dict[int, Any], cluster: Any) -> None:
    from kms_configs.models import (
        ChangeLog,
        ConfigId,
        PolicyCluster,
        SealedConfig,
        TenantPolicy,
    )
    from opencmk_crypto import b64d, content_digest, issued_at_now, seal_config, sign_statement

    ids = random.sample(range(1, 2**31 - 1), len(tenants))
    cluster_enc = b64d(cluster.encryption_public)
    config_ids, blobs, policies = [], [], []
    for t, cid in zip(tenants, ids, strict=True):
        blob = seal_config(
            kind="kms",
            tenant_id=t.tenant_id,
            config_id=cid,
            plaintext=json.dumps(_vault_config(t.tenant_id)).encode(),
            recipients=[roots[t.pk].encryption_public, cluster_enc],
        )
        payload = {
            "type": "tenant-policy",
            "vendor_id": str(vendor.public_id),
            "issued_at": issued_at_now(),
            "tenant_id": t.tenant_id,
            "version": 1,
            "kms_configs": [
                {
                    "config_id": cid,
                    "provider": "vault-transit",
                    "state": "primary",
                    "content_digest": content_digest(blob),
                }
            ],
            "logging": None,
            "leasing": {"enabled": False, "max_age_s": 3600},
            "clusters": [cluster.cluster_id],
        }
        statement = sign_statement("tenant-policy", payload, roots[t.pk].signing_key)
        config_ids.append(ConfigId(config_id=cid, tenant=t, kind="kms"))
        blobs.append(
            SealedConfig(
                tenant=t,
                config_id=cid,
                kind="kms",
                provider="vault-transit",
                sealed=blob,
                content_digest=content_digest(blob),
            )
        )
        policies.append(
            TenantPolicy(
                tenant=t,
                version=1,
                statement=statement,
                payload=payload,
                signer_kid=statement["kid"],
            )
        )
    ConfigId.objects.bulk_create(config_ids, batch_size=BATCH)
    SealedConfig.objects.bulk_create(blobs, batch_size=BATCH)
    policies = TenantPolicy.objects.bulk_create(policies, batch_size=BATCH)
    PolicyCluster.objects.bulk_create(
        [
            PolicyCluster(policy=p, tenant_id=p.tenant_id, cluster_id=cluster.cluster_id)
            for p in policies
        ],
        batch_size=BATCH,
    )
    ChangeLog.objects.bulk_create(
        [
            ChangeLog(vendor=vendor, tenant=t, tenant_ref=t.tenant_id, kind="policy")
            for t in tenants
        ],
        batch_size=BATCH,
    )


def signed_headers(world: SeededWorld, path: str) -> dict[str, str]:
    """Django test-client headers for a GET signed like the proxy's BrokerClient."""
    from tenant_security_proxy.broker_client import signed_message

    ts, nonce = str(int(time.time())), os.urandom(16).hex()
    sig = world.cluster_keys.signing_key.sign(
        signed_message("GET", path, world.cluster_id, ts, nonce, b"")
    ).signature
    return {
        "HTTP_X_OPENCMK_CLUSTER": world.cluster_id,
        "HTTP_X_OPENCMK_TIMESTAMP": ts,
        "HTTP_X_OPENCMK_NONCE": nonce,
        "HTTP_X_OPENCMK_SIGNATURE": base64.b64encode(sig).decode(),
    }
