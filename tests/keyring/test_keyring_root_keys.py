from __future__ import annotations

from typing import Any

import nacl.public
import pytest

from audit.models import AuditEvent
from keyring import selectors, services
from keyring.errors import (
    InvalidKeyMaterialError,
    KeyringConflictError,
    KeyringPermissionError,
    StatementRejectedError,
)
from keyring.models import OrgRootKey, RootKeyStatus, UserKey
from opencmk_crypto import OrgKeys, b64d, b64e, sign_statement, verify_statement
from tenants.models import Tenant, TenantStatus
from vendors.models import Vendor

from .conftest import Holder, pub, seal_to, tenant_root_statement, with_user_key

pytestmark = pytest.mark.django_db


def _opened(share_sealed: str, holder: Holder) -> bytes:
    return nacl.public.SealedBox(holder.keys.encryption_key).decrypt(b64d(share_sealed))


def test_the_first_vendor_admin_creates_the_root_sealed_to_their_own_key(
    vendor_root: OrgRootKey, alice_key: Holder, vendor_root_keys: OrgKeys
) -> None:
    assert vendor_root.status == RootKeyStatus.APPROVED
    assert vendor_root.kid == vendor_root_keys.kid
    share = selectors.root_share_get(root=vendor_root, user=alice_key.user)
    assert share is not None
    assert _opened(share.sealed_secret, alice_key) == vendor_root_keys.to_secret_bytes()
    assert AuditEvent.objects.filter(action="vendor_root.created").count() == 1


def test_a_vendor_has_only_one_root(
    vendor: Vendor, vendor_root: OrgRootKey, alice_key: Holder
) -> None:
    other = OrgKeys.generate()
    with pytest.raises(KeyringConflictError):
        services.vendor_root_create(
            vendor=vendor,
            user=alice_key.user,
            **pub(other),
            recipient_kid=alice_key.user_key.kid,
            sealed_secret=seal_to(other.to_secret_bytes(), alice_key.keys),
        )


def test_viewers_and_outsiders_cannot_create_the_vendor_root(
    vendor: Vendor, victor: Any, oscar: Any, mallory: Any
) -> None:
    for user in (victor, oscar, mallory):
        holder = with_user_key(user)
        root = OrgKeys.generate()
        with pytest.raises(KeyringPermissionError):
            services.vendor_root_create(
                vendor=vendor,
                user=user,
                **pub(root),
                recipient_kid=holder.user_key.kid,
                sealed_secret=seal_to(root.to_secret_bytes(), holder.keys),
            )
    assert not OrgRootKey.objects.exists()


def test_root_creation_needs_a_share_sealed_to_the_creators_current_key(
    vendor: Vendor, alice_key: Holder
) -> None:
    root = OrgKeys.generate()
    base = {"vendor": vendor, "user": alice_key.user, **pub(root)}
    with pytest.raises(KeyringConflictError):
        services.vendor_root_create(
            **base,
            recipient_kid="0" * 32,
            sealed_secret=seal_to(root.to_secret_bytes(), alice_key.keys),
        )
    with pytest.raises(InvalidKeyMaterialError):
        services.vendor_root_create(
            **base, recipient_kid=alice_key.user_key.kid, sealed_secret=b64e(b"x" * 64)
        )
    assert not OrgRootKey.objects.exists()


def test_a_new_admin_with_a_user_key_is_pending_until_an_admin_seals_the_root(
    vendor_root: OrgRootKey, alice_key: Holder, dave: Any, vendor_root_keys: OrgKeys
) -> None:
    assert selectors.pending_share_list(root=vendor_root) == []  # dave has no user key yet
    dave_key = with_user_key(dave)
    pending = selectors.pending_share_list(root=vendor_root)
    assert [p.email for p in pending] == ["dave@acme.test"]
    assert pending[0].encryption_public == dave_key.user_key.encryption_public

    share = services.root_share_create(
        root=vendor_root,
        actor=alice_key.user,
        recipient=dave,
        recipient_kid=pending[0].user_kid,
        sealed_secret=seal_to(vendor_root_keys.to_secret_bytes(), dave_key.keys),
    )

    assert _opened(share.sealed_secret, dave_key) == vendor_root_keys.to_secret_bytes()
    assert selectors.pending_share_list(root=vendor_root) == []
    event = AuditEvent.objects.get(action="root_key.shared")
    assert event.actor_id == str(alice_key.user.public_id)


def test_only_admins_holding_the_root_can_share_and_only_to_admins(
    vendor_root: OrgRootKey, alice_key: Holder, dave: Any, victor: Any, vendor_root_keys: OrgKeys
) -> None:
    dave_key = with_user_key(dave)
    victor_key = with_user_key(victor)
    sealed = seal_to(vendor_root_keys.to_secret_bytes(), victor_key.keys)
    with pytest.raises(KeyringPermissionError):  # victor is a viewer
        services.root_share_create(
            root=vendor_root,
            actor=alice_key.user,
            recipient=victor,
            recipient_kid=victor_key.user_key.kid,
            sealed_secret=sealed,
        )
    with pytest.raises(KeyringPermissionError):  # dave is an admin but holds no share yet
        services.root_share_create(
            root=vendor_root,
            actor=dave,
            recipient=dave,
            recipient_kid=dave_key.user_key.kid,
            sealed_secret=sealed,
        )
    with pytest.raises(KeyringConflictError):  # alice already holds it
        services.root_share_create(
            root=vendor_root,
            actor=alice_key.user,
            recipient=alice_key.user,
            recipient_kid=alice_key.user_key.kid,
            sealed_secret=sealed,
        )


def test_the_first_tenant_admin_creates_a_pending_tenant_root(
    pending_tenant_root: OrgRootKey, tenant: Tenant
) -> None:
    assert pending_tenant_root.status == RootKeyStatus.PENDING_APPROVAL
    assert list(selectors.pending_tenant_root_list(vendor=tenant.vendor)) == [pending_tenant_root]
    event = AuditEvent.objects.get(action="tenant_root.created")
    assert event.tenant_public_id == tenant.public_id


def test_tenant_viewers_cannot_create_the_tenant_root(tenant: Tenant, carol: Any) -> None:
    holder = with_user_key(carol)
    root = OrgKeys.generate()
    with pytest.raises(KeyringPermissionError):
        services.tenant_root_create(
            tenant=tenant,
            user=carol,
            **pub(root),
            recipient_kid=holder.user_key.kid,
            sealed_secret=seal_to(root.to_secret_bytes(), holder.keys),
        )


def test_approval_stores_the_vendor_signed_tenant_root_statement(
    vendor_root: OrgRootKey,
    vendor_root_keys: OrgKeys,
    pending_tenant_root: OrgRootKey,
    tenant_root_keys: OrgKeys,
    tenant: Tenant,
    alice_key: Holder,
) -> None:
    statement = tenant_root_statement(
        signer=vendor_root_keys, vendor=tenant.vendor, tenant=tenant, root_keys=tenant_root_keys
    )

    root = services.tenant_root_approve(
        root=pending_tenant_root, actor=alice_key.user, statement=statement
    )

    assert root.status == RootKeyStatus.APPROVED
    assert root.statement is not None
    assert root.statement.statement == statement  # stored exactly as signed
    # What the proxy will do with it later (DESIGN.md §6.2):
    payload = verify_statement(
        root.statement.statement,
        expected_type="tenant-root",
        public_key=vendor_root_keys.signing_public,
    )
    assert payload["tenant_id"] == "globex"
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.ROOT_KEY_APPROVED
    assert AuditEvent.objects.filter(action="tenant_root.approved").count() == 1


def _rejected(root: OrgRootKey, actor: Any, statement: Any) -> None:
    with pytest.raises(StatementRejectedError):
        services.tenant_root_approve(root=root, actor=actor, statement=statement)
    root.refresh_from_db()
    assert root.status == RootKeyStatus.PENDING_APPROVAL
    assert not AuditEvent.objects.filter(action="tenant_root.approved").exists()


def test_approval_rejects_a_tenant_root_signed_by_another_vendors_root(
    vendor_root: OrgRootKey,
    pending_tenant_root: OrgRootKey,
    tenant_root_keys: OrgKeys,
    tenant: Tenant,
    alice_key: Holder,
) -> None:
    forged = tenant_root_statement(
        signer=OrgKeys.generate(), vendor=tenant.vendor, tenant=tenant, root_keys=tenant_root_keys
    )
    _rejected(pending_tenant_root, alice_key.user, forged)


@pytest.mark.parametrize(
    "override",
    [
        {"tenant_id": "someone-else"},
        {"vendor_id": "00000000-0000-0000-0000-000000000000"},
        {"signing_key": b64e(OrgKeys.generate().signing_public)},
        {"encryption_key": b64e(OrgKeys.generate().encryption_public)},
    ],
    ids=["tenant_id", "vendor_id", "signing_key", "encryption_key"],
)
def test_approval_rejects_a_validly_signed_payload_for_other_keys_or_ids(
    vendor_root: OrgRootKey,
    vendor_root_keys: OrgKeys,
    pending_tenant_root: OrgRootKey,
    tenant_root_keys: OrgKeys,
    tenant: Tenant,
    alice_key: Holder,
    override: dict[str, str],
) -> None:
    statement = tenant_root_statement(
        signer=vendor_root_keys,
        vendor=tenant.vendor,
        tenant=tenant,
        root_keys=tenant_root_keys,
        **override,
    )
    _rejected(pending_tenant_root, alice_key.user, statement)


def test_approval_rejects_tampered_bytes_and_other_statement_types(
    vendor_root: OrgRootKey,
    vendor_root_keys: OrgKeys,
    pending_tenant_root: OrgRootKey,
    tenant_root_keys: OrgKeys,
    tenant: Tenant,
    alice_key: Holder,
) -> None:
    good = tenant_root_statement(
        signer=vendor_root_keys, vendor=tenant.vendor, tenant=tenant, root_keys=tenant_root_keys
    )
    sig = bytearray(b64d(good["sig"]))
    sig[0] ^= 1
    _rejected(pending_tenant_root, alice_key.user, {**good, "sig": b64e(bytes(sig))})
    _rejected(pending_tenant_root, alice_key.user, {**good, "type": "proxy-cluster"})
    payload = {
        k: v
        for k, v in verify_statement(
            good, expected_type="tenant-root", public_key=vendor_root_keys.signing_public
        ).items()
    }
    as_cluster = sign_statement(
        "proxy-cluster", {**payload, "type": "proxy-cluster"}, vendor_root_keys.signing_key
    )
    _rejected(pending_tenant_root, alice_key.user, as_cluster)
    _rejected(pending_tenant_root, alice_key.user, "not a statement")


def test_only_the_tenants_own_vendor_admins_approve(
    vendor_root: OrgRootKey,
    vendor_root_keys: OrgKeys,
    pending_tenant_root: OrgRootKey,
    tenant_root_keys: OrgKeys,
    tenant: Tenant,
    victor: Any,
    oscar: Any,
    bob: Any,
) -> None:
    statement = tenant_root_statement(
        signer=vendor_root_keys, vendor=tenant.vendor, tenant=tenant, root_keys=tenant_root_keys
    )
    for user in (victor, oscar, bob):
        with pytest.raises(KeyringPermissionError):
            services.tenant_root_approve(root=pending_tenant_root, actor=user, statement=statement)


def test_an_approved_root_cannot_be_approved_again(
    vendor_root: OrgRootKey,
    vendor_root_keys: OrgKeys,
    pending_tenant_root: OrgRootKey,
    tenant_root_keys: OrgKeys,
    tenant: Tenant,
    alice_key: Holder,
) -> None:
    statement = tenant_root_statement(
        signer=vendor_root_keys, vendor=tenant.vendor, tenant=tenant, root_keys=tenant_root_keys
    )
    services.tenant_root_approve(
        root=pending_tenant_root, actor=alice_key.user, statement=statement
    )
    with pytest.raises(KeyringConflictError):
        services.tenant_root_approve(
            root=pending_tenant_root, actor=alice_key.user, statement=statement
        )


def test_a_second_tenant_admin_receives_the_tenant_root(
    pending_tenant_root: OrgRootKey, tenant_root_keys: OrgKeys, bob: Any, brenda: Any
) -> None:
    brenda_key = with_user_key(brenda)
    [pending] = selectors.pending_share_list(root=pending_tenant_root)
    assert pending.email == "brenda@globex.test"

    share = services.root_share_create(
        root=pending_tenant_root,
        actor=bob,
        recipient=brenda,
        recipient_kid=pending.user_kid,
        sealed_secret=seal_to(tenant_root_keys.to_secret_bytes(), brenda_key.keys),
    )

    assert _opened(share.sealed_secret, brenda_key) == tenant_root_keys.to_secret_bytes()
    assert (
        AuditEvent.objects.get(action="root_key.shared").tenant_public_id
        == pending_tenant_root.tenant.public_id
    )  # type: ignore[union-attr]


def test_replacing_a_user_key_drops_its_shares_so_admins_can_share_again(
    vendor_root: OrgRootKey, alice_key: Holder, dave: Any, vendor_root_keys: OrgKeys
) -> None:
    dave_key = with_user_key(dave)
    services.root_share_create(
        root=vendor_root,
        actor=alice_key.user,
        recipient=dave,
        recipient_kid=dave_key.user_key.kid,
        sealed_secret=seal_to(vendor_root_keys.to_secret_bytes(), dave_key.keys),
    )
    assert services.sole_holder_roots(user=dave) == []
    with pytest.raises(KeyringConflictError):
        services.user_key_delete(user=dave, kid="0" * 32)

    assert services.user_key_delete(user=dave, kid=dave_key.user_key.kid) == 1

    assert not UserKey.objects.filter(user=dave).exists()
    assert selectors.root_share_get(root=vendor_root, user=dave) is None
    new_key = with_user_key(dave)
    assert [p.user_kid for p in selectors.pending_share_list(root=vendor_root)] == [
        new_key.user_key.kid
    ]
    assert AuditEvent.objects.filter(action="root_key.share_dropped").count() == 1
    assert AuditEvent.objects.filter(action="user_key.deleted").count() == 1


def test_the_only_holder_of_a_root_is_warned(vendor_root: OrgRootKey, alice_key: Holder) -> None:
    assert services.sole_holder_roots(user=alice_key.user) == [vendor_root]
