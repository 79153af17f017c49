from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class KeyKind(models.TextChoices):
    VENDOR = "vendor", "Vendor"
    TENANT = "tenant", "Tenant"


class Scope(models.TextChoices):
    """What a key may do; a key holds a subset of its kind's scopes (least privilege, K-04)."""

    TENANTS_READ = "tenants:read", "Read tenants, invitations, clusters and status"
    TENANTS_WRITE = "tenants:write", "Create, rename and delete tenants; manage invitations"
    AUDIT_READ = "audit:read", "Read audit events"
    STATUS_READ = "status:read", "Read the tenant's status"


KIND_SCOPES: dict[str, tuple[str, ...]] = {
    KeyKind.VENDOR: (Scope.TENANTS_READ, Scope.TENANTS_WRITE, Scope.AUDIT_READ),
    KeyKind.TENANT: (Scope.AUDIT_READ, Scope.STATUS_READ),
}


class ApiKey(models.Model):
    """A vendor or tenant API key. Only the SHA-256 of the key is stored (K-02)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=8, choices=KeyKind.choices)
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.CASCADE, related_name="api_keys")
    # Set for tenant keys only; a tenant key also carries its tenant's vendor.
    tenant = models.ForeignKey(
        "tenants.Tenant", null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="vendor", tenant__isnull=True)
                | Q(kind="tenant", tenant__isnull=False),
                name="apikey_kind_matches_org",
            )
        ]

    def __repr__(self) -> str:
        return f"<ApiKey {self.prefix} {self.kind}>"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and not self.is_expired
