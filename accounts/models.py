from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person. Logs in by e-mail; belongs to organisations through memberships."""

    username = None  # type: ignore[assignment,misc]
    email = models.EmailField("e-mail address", unique=True)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    display_name = models.CharField(max_length=150, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[misc,assignment]

    def __str__(self) -> str:
        return self.display_name or self.email


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"


class Invitation(models.Model):
    """An e-mailed, single-use offer to join a vendor or a tenant with a role.

    Only the SHA-256 of the token is stored; the token itself exists in the e-mail alone.
    ``vendor`` is always set (the chain the audit events go to); ``tenant`` only for tenant
    invitations. ``issued_by`` says which side manages it: a vendor invites a tenant's first
    admin, the tenant's own admins invite everyone after that.
    """

    class Kind(models.TextChoices):
        VENDOR = "vendor", "Vendor"
        TENANT = "tenant", "Tenant"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    issued_by = models.CharField(max_length=8, choices=Kind.choices)
    vendor = models.ForeignKey(
        "vendors.Vendor", on_delete=models.CASCADE, related_name="invitations"
    )
    tenant = models.ForeignKey(
        "tenants.Tenant",
        on_delete=models.CASCADE,
        related_name="invitations",
        null=True,
        blank=True,
    )
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=[("admin", "Admin"), ("viewer", "Viewer")])
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="vendor", tenant__isnull=True)
                    | models.Q(kind="tenant", tenant__isnull=False)
                ),
                name="invitation_kind_matches_org",
            )
        ]
        indexes = [
            models.Index(
                fields=["vendor", "issued_by", "-created_at"], name="invitation_vendor_recent"
            ),
            models.Index(fields=["tenant", "-created_at"], name="invitation_tenant_recent"),
            models.Index(fields=["email"], name="invitation_email"),
        ]

    def __str__(self) -> str:
        return f"invitation {self.public_id} ({self.kind}, {self.role})"

    def status_at(self, now: datetime) -> InvitationStatus:
        if self.accepted_at is not None:
            return InvitationStatus.ACCEPTED
        if self.revoked_at is not None:
            return InvitationStatus.REVOKED
        if self.expires_at <= now:
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING

    @property
    def status(self) -> InvitationStatus:
        return self.status_at(timezone.now())

    @property
    def organisation_name(self) -> str:
        return self.tenant.name if self.tenant is not None else self.vendor.name
