from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from vendors.models import Role, Vendor

# DESIGN.md §6.3: the string the vendor's application sends as tenantId.
TENANT_ID_RE = r"^[A-Za-z0-9._-]{1,128}$"
tenant_id_validator = RegexValidator(
    TENANT_ID_RE, "Use 1-128 characters: letters, digits, dot, underscore or hyphen."
)


class TenantStatus(models.TextChoices):
    INVITED = "invited", "Invited"
    ACCEPTED = "accepted", "Accepted"
    ROOT_KEY_APPROVED = "root_key_approved", "Root key approved"
    ACTIVE = "active", "Policy signed"


class Tenant(models.Model):
    """A customer of a vendor; keeps its keys in its own KMS."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="tenants")
    tenant_id = models.CharField(max_length=128, validators=[tenant_id_validator])
    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=32, choices=TenantStatus.choices, default=TenantStatus.INVITED
    )
    policy_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "tenant_id"], name="uniq_tenant_id_per_vendor"
            )
        ]
        indexes = [
            # Keyset pagination walks (name, public_id) within a vendor, optionally per status.
            models.Index(fields=["vendor", "name", "public_id"], name="tenant_vendor_name_key"),
            models.Index(
                fields=["vendor", "status", "name", "public_id"], name="tenant_vendor_status_key"
            ),
            models.Index(fields=["vendor", "-created_at"], name="tenant_vendor_created"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.tenant_id})"


class TenantMembership(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tenant_memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="uniq_tenant_member")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant} ({self.role})"
