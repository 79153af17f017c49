"""A provisioned world for broker sync tests, built through the services as browsers would.

alice (Acme admin) holds the vendor root; bob (globex admin) holds globex's approved tenant
root; cluster ``east`` is registered. ``signed`` sends requests signed exactly like the proxy's
own BrokerClient (same ``signed_message``), so the tests pin the wire contract from both sides.
"""

from __future__ import annotations

import base64
import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from keyring.models import ProxyCluster
from kms_configs import browser
from kms_configs.browser import ConfigDraft, TenantSigner
from opencmk_crypto import OrgKeys
from tenant_security_proxy.broker_client import signed_message
from tenants.models import Tenant

VAULT_CONFIG = {
    "provider": "vault-transit",
    "address": "http://127.0.0.1:1",
    "mount": "transit",
    "key_name": "globex",
    "token": "canary-token-never-stored-in-clear",
}


def kms_draft(**overrides: Any) -> ConfigDraft:
    return ConfigDraft(config=dict(VAULT_CONFIG), **overrides)


# Argon2id (INTERACTIVE, the floor keyring accepts) costs ~0.2 s per user key: wrap each pooled
# key once per session and hand the same blobs to every test's users (each test has a fresh
# database, so kids stay unique within a test).
_KEY_POOL: list[tuple[OrgKeys, dict[str, Any]]] = []


def pooled_user_keys(user: Any, index: int) -> OrgKeys:
    """What ``browser.user_keys`` does (user key created from a passphrase blob), faster."""
    from keyring.services import user_key_create
    from opencmk_crypto import MEMLIMIT_INTERACTIVE, OPSLIMIT_INTERACTIVE, b64e, wrap_secret

    while len(_KEY_POOL) <= index:
        keys = OrgKeys.generate()
        blob = wrap_secret(
            keys.to_secret_bytes(),
            "pooled key passphrase",
            opslimit=OPSLIMIT_INTERACTIVE,
            memlimit=MEMLIMIT_INTERACTIVE,
        )
        _KEY_POOL.append((keys, blob))
    keys, blob = _KEY_POOL[index]
    user_key_create(
        user=user,
        signing_public=b64e(keys.signing_public),
        encryption_public=b64e(keys.encryption_public),
        wrapped_secret=blob,
    )
    return keys


@dataclass
class World:
    vendor: Any
    tenant: Tenant
    alice: Any
    bob: Any
    vendor_root: OrgKeys
    signer: TenantSigner
    cluster: ProxyCluster
    cluster_keys: OrgKeys
    capture: Any = None
    next_key: int = 2

    @contextlib.contextmanager
    def committed(self) -> Iterator[None]:
        """Run on-commit hooks (cache invalidation) as a real commit would."""
        with self.capture(execute=True):
            yield

    def new_tenant(self, tenant_id: str) -> TenantSigner:
        from tests.broker.factories import TenantFactory, TenantMembershipFactory, UserFactory

        with self.committed():
            return self._new_tenant(tenant_id, TenantFactory, TenantMembershipFactory, UserFactory)

    def _new_tenant(self, tenant_id: str, *factories: Any) -> TenantSigner:
        TenantFactory, TenantMembershipFactory, UserFactory = factories
        tenant = TenantFactory(vendor=self.vendor, tenant_id=tenant_id)
        admin = UserFactory()
        TenantMembershipFactory(tenant=tenant, user=admin, role="admin")
        member = pooled_user_keys(admin, self.next_key)
        self.next_key += 1
        root = browser.tenant_root_keys(
            tenant, admin, member, vendor_admin=self.alice, vendor_root=self.vendor_root
        )
        return TenantSigner(tenant, admin, root)

    def publish(self, signer: TenantSigner | None = None, **options: Any) -> Any:
        signer = signer or self.signer
        with self.committed():
            return signer.publish([kms_draft()], [self.cluster], **options)


@pytest.fixture
def world(
    acme: Any, globex: Tenant, alice: Any, bob: Any, django_capture_on_commit_callbacks: Any
) -> World:
    alice_keys = pooled_user_keys(alice, 0)
    vendor_root = browser.vendor_root_keys(acme, alice, alice_keys)
    bob_keys = pooled_user_keys(bob, 1)
    root = browser.tenant_root_keys(
        globex, bob, bob_keys, vendor_admin=alice, vendor_root=vendor_root
    )
    cluster_keys, cluster = browser.cluster_register(acme, alice, vendor_root, name="east")
    globex.refresh_from_db()
    return World(
        acme,
        globex,
        alice,
        bob,
        vendor_root,
        TenantSigner(globex, bob, root),
        cluster,
        cluster_keys,
        django_capture_on_commit_callbacks,
    )


def signed_headers(
    keys: OrgKeys,
    cluster_id: str,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or os.urandom(16).hex()
    signature = keys.signing_key.sign(
        signed_message(method, path, cluster_id, ts, nonce, body)
    ).signature
    return {
        "HTTP_X_OPENCMK_CLUSTER": cluster_id,
        "HTTP_X_OPENCMK_TIMESTAMP": ts,
        "HTTP_X_OPENCMK_NONCE": nonce,
        "HTTP_X_OPENCMK_SIGNATURE": base64.b64encode(signature).decode(),
    }


class ProxyClient:
    """A Django test client that signs like a proxy of one cluster."""

    def __init__(self, keys: OrgKeys, cluster_id: str) -> None:
        self.keys, self.cluster_id, self.client = keys, cluster_id, Client()

    def get(self, path: str, **extra: Any) -> Any:
        headers = signed_headers(self.keys, self.cluster_id, "GET", path)
        return self.client.get(path, **headers, **extra)

    def post(self, path: str, body: bytes, **extra: Any) -> Any:
        headers = signed_headers(self.keys, self.cluster_id, "POST", path, body)
        return self.client.generic(
            "POST", path, data=body, content_type="application/json", **headers, **extra
        )


@pytest.fixture
def proxy(world: World) -> ProxyClient:
    return ProxyClient(world.cluster_keys, world.cluster.cluster_id)
