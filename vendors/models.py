from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    """Roles in any organisation; capabilities per role live in ``accounts.roles``."""

    ADMIN = "admin", "Admin"
    VIEWER = "viewer", "Viewer"


class Vendor(models.Model):
    """A SaaS vendor running OpenCMK for its customers (tenants)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    require_tenant_admin_mfa = models.BooleanField(
        default=True, help_text="Tenant admins must enrol a second factor before any admin action."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class VendorMembership(models.Model):
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vendor_memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "user"], name="uniq_vendor_member")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.vendor} ({self.role})"
