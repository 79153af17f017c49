"""Keys the broker stores but can neither read nor forge (DESIGN.md §2-3).

Private halves exist here only as ciphertext made in a browser: a user key wrapped with the
user's key passphrase, organisation root keys sealed to members' user keys. Public keys are
stored as standard base64 of the 32 raw bytes, the form statements carry them in.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from tenants.models import Tenant
from vendors.models import Vendor

B64_KEY_LENGTH = 44  # base64 of 32 bytes, padded


class UserKey(models.Model):
    """A person's X25519 + Ed25519 key pair; the private half rests passphrase-wrapped."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="user_key"
    )
    kid = models.CharField(max_length=32, unique=True)
    signing_public = models.CharField(max_length=B64_KEY_LENGTH)
    encryption_public = models.CharField(max_length=B64_KEY_LENGTH)
    # Exactly what opencmk_crypto.wrap_secret (or the browser's mirror) produces: the Argon2id
    # parameters travel with the blob, so stronger defaults later never strand old keys.
    wrapped_secret = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"user key {self.kid}"


class RootKeyStatus(models.TextChoices):
    PENDING_APPROVAL = "pending_approval", "Pending vendor approval"
    APPROVED = "approved", "Approved"


class OrgRootKey(models.Model):
    """The root key of a vendor or of a tenant (exactly one of the two)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    vendor = models.OneToOneField(
        Vendor, null=True, blank=True, on_delete=models.CASCADE, related_name="root_key"
    )
    tenant = models.OneToOneField(
        Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="root_key"
    )
    kid = models.CharField(max_length=32, unique=True)
    signing_public = models.CharField(max_length=B64_KEY_LENGTH)
    encryption_public = models.CharField(max_length=B64_KEY_LENGTH)
    status = models.CharField(
        max_length=20, choices=RootKeyStatus.choices, default=RootKeyStatus.PENDING_APPROVAL
    )
    # For a tenant root: the vendor-signed ``tenant-root`` statement that certifies it.
    statement = models.OneToOneField(
        "Statement", null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(vendor__isnull=False, tenant__isnull=True)
                | Q(vendor__isnull=True, tenant__isnull=False),
                name="root_key_one_org",
            )
        ]

    def __str__(self) -> str:
        return f"root key {self.kid}"


class RootKeyShare(models.Model):
    """An organisation root private key sealed (crypto_box_seal) to one member's user key."""

    root = models.ForeignKey(OrgRootKey, on_delete=models.CASCADE, related_name="shares")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="root_key_shares"
    )
    # The user key the share was sealed to; a share for an older user key is useless.
    recipient_kid = models.CharField(max_length=32)
    sealed_secret = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["root", "recipient"], name="uniq_share_per_member")
        ]

    def __str__(self) -> str:
        return f"share of {self.root_id} for {self.recipient_id}"


class StatementType(models.TextChoices):
    TENANT_ROOT = "tenant-root", "Tenant root"
    PROXY_CLUSTER = "proxy-cluster", "Proxy cluster"
    PROXY_CLUSTER_REVOCATION = "proxy-cluster-revocation", "Proxy cluster revocation"
    TENANT_POLICY = "tenant-policy", "Tenant policy"


class Statement(models.Model):
    """A signed statement exactly as the browser uploaded it, plus fields parsed for lookups."""

    type = models.CharField(max_length=32, choices=StatementType.choices)
    signer_kid = models.CharField(max_length=32)
    # {"type", "kid", "payload", "sig"} unchanged: proxies verify these very bytes again.
    statement = models.JSONField()
    payload = models.JSONField()
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="statements")
    tenant = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="statements"
    )
    # cluster_id or tenant_id the statement is about.
    subject = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["vendor", "type", "subject"], name="statement_vendor_type"),
            models.Index(fields=["tenant", "type", "-created_at"], name="statement_tenant_type"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.subject}"


class ClusterStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    REVOKED = "revoked", "Revoked"


class ProxyCluster(models.Model):
    """A Tenant Security Proxy cluster certified by a vendor root ``proxy-cluster`` statement."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="proxy_clusters")
    # Unique across the broker: proxies identify themselves by it (TSP_CLUSTER_ID), and a
    # revoked id must never come back, so rows are kept after revocation.
    cluster_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    signing_public = models.CharField(max_length=B64_KEY_LENGTH, unique=True)
    encryption_public = models.CharField(max_length=B64_KEY_LENGTH)
    status = models.CharField(
        max_length=10, choices=ClusterStatus.choices, default=ClusterStatus.ACTIVE
    )
    statement = models.OneToOneField(Statement, on_delete=models.RESTRICT, related_name="+")
    revocation = models.OneToOneField(
        Statement, null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["vendor", "status", "name"], name="cluster_vendor_status")]

    def __str__(self) -> str:
        return f"{self.name} ({self.cluster_id})"
