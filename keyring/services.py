"""Every write to the keyring. Each call is one transaction and one audit event.

The broker only stores what browsers made: public keys, passphrase-wrapped and sealed private
keys it cannot open, and statements it verifies (where it holds the signer's public key) but
cannot forge. The proxy verifies every statement again (DESIGN.md §6.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.actors import Actor
from audit.services import record
from keyring import validation as check
from keyring.errors import (
    InvalidKeyMaterialError,
    KeyringConflictError,
    KeyringPermissionError,
)
from keyring.models import (
    OrgRootKey,
    RootKeyShare,
    RootKeyStatus,
    Statement,
    StatementType,
    UserKey,
)
from keyring.selectors import is_org_admin, root_share_get
from opencmk_crypto import b64d, is_kid
from tenants.models import Tenant, TenantStatus
from vendors.models import Role, Vendor


@transaction.atomic
def user_key_create(
    *, user: Any, signing_public: object, encryption_public: object, wrapped_secret: object
) -> UserKey:
    _sign, _enc, kid_ = check.key_pair(signing_public, encryption_public)
    blob = check.passphrase_blob(wrapped_secret)
    if UserKey.objects.filter(user=user).exists():
        raise KeyringConflictError("You already have a user key.")
    key = UserKey(
        user=user,
        kid=kid_,
        signing_public=str(signing_public),
        encryption_public=str(encryption_public),
        wrapped_secret=blob,
    )
    _save_unique(key, "This public key is already registered.")
    record(
        action="user_key.created",
        actor=Actor.for_user(user),
        vendor=None,
        target=key.kid,
        data={"kid": key.kid, "opslimit": blob["opslimit"], "memlimit": blob["memlimit"]},
    )
    return key


@transaction.atomic
def user_key_rewrap(*, user: Any, kid: object, wrapped_secret: object) -> UserKey:
    """Passphrase change: a new blob for the same key pair (public keys never change here)."""
    blob = check.passphrase_blob(wrapped_secret)
    key = UserKey.objects.select_for_update().filter(user=user).first()
    if key is None:
        raise KeyringConflictError("You have no user key yet.")
    if kid != key.kid:
        raise KeyringConflictError("The key was changed elsewhere; reload the page.")
    key.wrapped_secret = blob
    key.rotated_at = timezone.now()
    key.save(update_fields=["wrapped_secret", "rotated_at"])
    record(
        action="user_key.passphrase_changed",
        actor=Actor.for_user(user),
        vendor=None,
        target=key.kid,
        data={"kid": key.kid, "opslimit": blob["opslimit"], "memlimit": blob["memlimit"]},
    )
    return key


@transaction.atomic
def user_key_delete(*, user: Any, kid: object) -> int:
    """Recovery after a lost key passphrase: drop the user key and every root share sealed to
    it, so a new user key can be created and re-shared by other admins. Returns the number of
    shares dropped; where the user held the only share, that root key is lost for good."""
    if not is_kid(kid):
        raise InvalidKeyMaterialError("kid must be a key id.")
    key = UserKey.objects.select_for_update().filter(user=user).first()
    if key is None or kid != key.kid:
        raise KeyringConflictError("The key was changed elsewhere; reload the page.")
    shares = list(
        RootKeyShare.objects.filter(recipient=user).select_related(
            "root__tenant__vendor", "root__vendor"
        )
    )
    for share in shares:
        root = share.root
        record(
            action="root_key.share_dropped",
            actor=Actor.for_user(user),
            vendor=root.vendor or root.tenant.vendor,  # type: ignore[union-attr]
            tenant=root.tenant,
            target=root,
            data={"kid": root.kid, "recipient_kid": share.recipient_kid},
        )
        share.delete()
    key.delete()
    record(
        action="user_key.deleted",
        actor=Actor.for_user(user),
        vendor=None,
        target=kid,
        data={"kid": kid, "shares_dropped": len(shares)},
    )
    return len(shares)


def sole_holder_roots(*, user: Any) -> list[OrgRootKey]:
    """Root keys for which this user holds the only share (lost if they drop their key)."""
    held = OrgRootKey.objects.filter(shares__recipient=user)
    return [root for root in held.select_related("vendor", "tenant") if root.shares.count() == 1]


def _save_unique(obj: Any, message: str) -> None:
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise KeyringConflictError(message) from None


def _creator_share(*, root: OrgRootKey, user: Any, recipient_kid: object, sealed: object) -> None:
    """The creating browser seals the new root to its own user key before uploading it."""
    user_key = UserKey.objects.filter(user=user).first()
    if user_key is None:
        raise KeyringPermissionError("Create your user key first.")
    if recipient_kid != user_key.kid:
        raise KeyringConflictError("The root key was sealed to another user key.")
    RootKeyShare.objects.create(
        root=root,
        recipient=user,
        recipient_kid=user_key.kid,
        sealed_secret=check.sealed_org_secret(sealed),
        created_by=user,
    )


@transaction.atomic
def vendor_root_create(
    *,
    vendor: Vendor,
    user: Any,
    signing_public: object,
    encryption_public: object,
    recipient_kid: object,
    sealed_secret: object,
) -> OrgRootKey:
    """The first vendor admin's browser creates the vendor root (the proxies' trust anchor)."""
    # Locks the vendor row so two admins racing to create a root cannot both succeed.
    Vendor.objects.select_for_update().filter(pk=vendor.pk).first()
    if not vendor.memberships.filter(user=user, role=Role.ADMIN).exists():
        raise KeyringPermissionError("Only vendor admins can create the vendor root key.")
    if OrgRootKey.objects.filter(vendor=vendor).exists():
        raise KeyringConflictError("This vendor already has a root key.")
    _sign, _enc, kid_ = check.key_pair(signing_public, encryption_public)
    root = OrgRootKey(
        vendor=vendor,
        kid=kid_,
        signing_public=str(signing_public),
        encryption_public=str(encryption_public),
        status=RootKeyStatus.APPROVED,
        created_by=user,
        approved_by=user,
        approved_at=timezone.now(),
    )
    _save_unique(root, "This public key is already registered.")
    _creator_share(root=root, user=user, recipient_kid=recipient_kid, sealed=sealed_secret)
    record(
        action="vendor_root.created",
        actor=Actor.for_user(user),
        vendor=vendor,
        target=root,
        data={"kid": root.kid},
    )
    return root


@transaction.atomic
def tenant_root_create(
    *,
    tenant: Tenant,
    user: Any,
    signing_public: object,
    encryption_public: object,
    recipient_kid: object,
    sealed_secret: object,
) -> OrgRootKey:
    """The first tenant admin's browser creates the tenant root; it waits for vendor approval."""
    Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
    if not tenant.memberships.filter(user=user, role=Role.ADMIN).exists():
        raise KeyringPermissionError("Only tenant admins can create the tenant root key.")
    if OrgRootKey.objects.filter(tenant=tenant).exists():
        raise KeyringConflictError("This tenant already has a root key.")
    _sign, _enc, kid_ = check.key_pair(signing_public, encryption_public)
    root = OrgRootKey(
        tenant=tenant,
        kid=kid_,
        signing_public=str(signing_public),
        encryption_public=str(encryption_public),
        status=RootKeyStatus.PENDING_APPROVAL,
        created_by=user,
    )
    _save_unique(root, "This public key is already registered.")
    _creator_share(root=root, user=user, recipient_kid=recipient_kid, sealed=sealed_secret)
    record(
        action="tenant_root.created",
        actor=Actor.for_user(user),
        vendor=tenant.vendor,
        tenant=tenant,
        target=root,
        data={"kid": root.kid},
    )
    return root


@transaction.atomic
def root_share_create(
    *, root: OrgRootKey, actor: Any, recipient: Any, recipient_kid: object, sealed_secret: object
) -> RootKeyShare:
    """An admin who holds the root seals it to a further admin's user key, in the browser."""
    if not is_org_admin(root=root, user=actor) or root_share_get(root=root, user=actor) is None:
        raise KeyringPermissionError("Only admins holding the root key can share it.")
    if not is_org_admin(root=root, user=recipient):
        raise KeyringPermissionError("The recipient is not an admin of this organisation.")
    user_key = UserKey.objects.filter(user=recipient).first()
    if user_key is None or recipient_kid != user_key.kid:
        raise KeyringConflictError("The recipient's user key changed; reload the page.")
    share = RootKeyShare(
        root=root,
        recipient=recipient,
        recipient_kid=user_key.kid,
        sealed_secret=check.sealed_org_secret(sealed_secret),
        created_by=actor,
    )
    _save_unique(share, "The recipient already holds the root key.")
    record(
        action="root_key.shared",
        actor=Actor.for_user(actor),
        vendor=root.vendor or root.tenant.vendor,  # type: ignore[union-attr]
        tenant=root.tenant,
        target=root,
        data={
            "kid": root.kid,
            "recipient": str(recipient.public_id),
            "recipient_kid": user_key.kid,
        },
    )
    return share


def vendor_root_public(vendor: Vendor) -> bytes:
    """The vendor root's signing key, which every vendor statement must verify under."""
    root = OrgRootKey.objects.filter(vendor=vendor).first()
    if root is None:
        raise KeyringConflictError("Create the vendor root key first.")
    return b64d(root.signing_public)


def statement_store(
    *,
    vendor: Vendor,
    tenant: Tenant | None,
    statement: Mapping[str, Any],
    payload: dict[str, Any],
    subject: str,
) -> Statement:
    return Statement.objects.create(
        type=payload["type"],
        signer_kid=statement["kid"],
        statement=dict(statement),
        payload=payload,
        vendor=vendor,
        tenant=tenant,
        subject=subject,
    )


@transaction.atomic
def tenant_root_approve(*, root: OrgRootKey, actor: Any, statement: object) -> OrgRootKey:
    """A vendor admin's browser signed ``tenant-root`` after comparing fingerprints."""
    root = (
        OrgRootKey.objects.select_for_update(of=("self",))
        .select_related("tenant__vendor")
        .get(pk=root.pk)
    )
    tenant = root.tenant
    if tenant is None:
        raise KeyringConflictError("Only tenant root keys are approved.")
    vendor = tenant.vendor
    if not vendor.memberships.filter(user=actor, role=Role.ADMIN).exists():
        raise KeyringPermissionError("Only vendor admins can approve tenant root keys.")
    if root.status != RootKeyStatus.PENDING_APPROVAL:
        raise KeyringConflictError("This tenant root key is already approved.")
    payload = check.verified_payload(
        statement, expected_type=StatementType.TENANT_ROOT, signer_public=vendor_root_public(vendor)
    )
    check.require_fields(
        payload,
        {
            "vendor_id": str(vendor.public_id),
            "tenant_id": tenant.tenant_id,
            "signing_key": root.signing_public,
            "encryption_key": root.encryption_public,
        },
    )
    assert isinstance(statement, Mapping)
    root.statement = statement_store(
        vendor=vendor, tenant=tenant, statement=statement, payload=payload, subject=tenant.tenant_id
    )
    root.status = RootKeyStatus.APPROVED
    root.approved_by = actor
    root.approved_at = timezone.now()
    root.save(update_fields=["statement", "status", "approved_by", "approved_at"])
    if tenant.status in (TenantStatus.INVITED, TenantStatus.ACCEPTED):
        tenant.status = TenantStatus.ROOT_KEY_APPROVED
        tenant.save(update_fields=["status", "updated_at"])
    record(
        action="tenant_root.approved",
        actor=Actor.for_user(actor),
        vendor=vendor,
        tenant=tenant,
        target=root,
        data={"kid": root.kid, "signer_kid": root.statement.signer_kid},
    )
    return root
