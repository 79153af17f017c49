"""People and organisations for keyring tests, plus browser-equivalent key material (PyNaCl).

People come from tests/conftest.py (alice: Acme admin, bob: globex admin, carol: globex
viewer, mallory: no organisation); added here: dave (second Acme admin), victor (Acme viewer),
brenda (second globex admin) and oscar (admin of another vendor).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import nacl.public
import pytest

from keyring import services
from keyring.models import OrgRootKey, UserKey
from opencmk_crypto import (
    MEMLIMIT_INTERACTIVE,
    OPSLIMIT_INTERACTIVE,
    OrgKeys,
    b64e,
    issued_at_now,
    sign_statement,
    wrap_secret,
)
from tenants.models import Tenant
from tests.broker.factories import (
    TenantMembershipFactory,
    UserFactory,
    VendorFactory,
    VendorMembershipFactory,
)
from vendors.models import Role, Vendor


@dataclass
class Holder:
    """A user together with the private keys their browser would hold."""

    user: Any
    keys: OrgKeys

    @property
    def user_key(self) -> UserKey:
        return UserKey.objects.get(user=self.user)


def pub(keys: OrgKeys) -> dict[str, str]:
    return {
        "signing_public": b64e(keys.signing_public),
        "encryption_public": b64e(keys.encryption_public),
    }


def seal_to(secret: bytes, user_keys: OrgKeys) -> str:
    """What the browser does: crypto_box_seal of a root secret to a member's user key."""
    box = nacl.public.SealedBox(user_keys.encryption_key.public_key)
    return b64e(box.encrypt(secret))


def blob_for(keys: OrgKeys, passphrase: str = "a long key passphrase 42") -> dict[str, Any]:
    return wrap_secret(
        keys.to_secret_bytes(),
        passphrase,
        opslimit=OPSLIMIT_INTERACTIVE,
        memlimit=MEMLIMIT_INTERACTIVE,
    )


def with_user_key(user: Any) -> Holder:
    keys = OrgKeys.generate()
    services.user_key_create(user=user, **pub(keys), wrapped_secret=blob_for(keys))
    return Holder(user, keys)


@pytest.fixture
def vendor(acme: Vendor) -> Vendor:
    return acme


@pytest.fixture
def tenant(globex: Tenant) -> Tenant:
    return globex


def _member(org: Vendor | Tenant, email: str, role: str) -> Any:
    user = UserFactory(email=email)
    if isinstance(org, Vendor):
        VendorMembershipFactory(vendor=org, user=user, role=role)
    else:
        TenantMembershipFactory(tenant=org, user=user, role=role)
    return user


@pytest.fixture
def dave(vendor: Vendor) -> Any:
    """A second vendor admin."""
    return _member(vendor, "dave@acme.test", Role.ADMIN)


@pytest.fixture
def victor(vendor: Vendor) -> Any:
    """A vendor viewer."""
    return _member(vendor, "victor@acme.test", Role.VIEWER)


@pytest.fixture
def brenda(tenant: Tenant) -> Any:
    """A second tenant admin."""
    return _member(tenant, "brenda@globex.test", Role.ADMIN)


@pytest.fixture
def oscar(db: None) -> Any:
    """Admin of another vendor."""
    return _member(VendorFactory(name="Other SaaS"), "oscar@other.test", Role.ADMIN)


@pytest.fixture
def alice_key(alice: Any) -> Holder:
    return with_user_key(alice)


@pytest.fixture
def vendor_root_keys() -> OrgKeys:
    return OrgKeys.generate()


@pytest.fixture
def vendor_root(vendor: Vendor, alice_key: Holder, vendor_root_keys: OrgKeys) -> OrgRootKey:
    return services.vendor_root_create(
        vendor=vendor,
        user=alice_key.user,
        **pub(vendor_root_keys),
        recipient_kid=alice_key.user_key.kid,
        sealed_secret=seal_to(vendor_root_keys.to_secret_bytes(), alice_key.keys),
    )


@pytest.fixture
def tenant_root_keys() -> OrgKeys:
    return OrgKeys.generate()


@pytest.fixture
def pending_tenant_root(tenant: Tenant, bob: Any, tenant_root_keys: OrgKeys) -> OrgRootKey:
    bob_key = with_user_key(bob)
    return services.tenant_root_create(
        tenant=tenant,
        user=bob,
        **pub(tenant_root_keys),
        recipient_kid=bob_key.user_key.kid,
        sealed_secret=seal_to(tenant_root_keys.to_secret_bytes(), bob_key.keys),
    )


def tenant_root_statement(
    *, signer: OrgKeys, vendor: Vendor, tenant: Tenant, root_keys: OrgKeys, **override: Any
) -> dict[str, str]:
    payload = {
        "type": "tenant-root",
        "vendor_id": str(vendor.public_id),
        "issued_at": issued_at_now(),
        "tenant_id": tenant.tenant_id,
        "signing_key": b64e(root_keys.signing_public),
        "encryption_key": b64e(root_keys.encryption_public),
        **override,
    }
    return sign_statement("tenant-root", payload, signer.signing_key)
