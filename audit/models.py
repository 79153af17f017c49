"""Audit events: append-only, hash-chained per organisation (DESIGN.md §9, docs/audit.md).

Events reference vendors and tenants by their public ids, not by foreign keys, so deleting a
tenant (or a vendor) never cascades into its audit history: the history outlives the row.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from audit.actors import ActorKind

GENESIS_HASH = "0" * 64


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"
    DENIED = "denied", "Denied"


class AuditChainHead(models.Model):
    """The tip of one hash chain; its row lock serialises writers of that chain.

    ``key`` names the chain: ``platform`` (user-level events with no organisation),
    ``vendor:<vendor public id>`` or ``vendor:<vendor public id>/tenant:<tenant public id>``.
    """

    key = models.CharField(max_length=100, unique=True)
    vendor_public_id = models.UUIDField(null=True, blank=True, db_index=True)
    tenant_public_id = models.UUIDField(null=True, blank=True, unique=True)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)
    # Seq of the newest published checkpoint (audit.publishing): record() compares it with seq
    # to trigger a checkpoint every OPENCMK_AUDIT_CHECKPOINT_EVENTS events without a query.
    # A scheduling hint only: the checkpoints themselves are the evidence.
    published_seq = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.key} @ {self.seq}"


class AuditEvent(models.Model):
    """One recorded action. The database refuses UPDATE, DELETE and TRUNCATE (migration 0002)."""

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    chain = models.ForeignKey(AuditChainHead, on_delete=models.PROTECT, related_name="events")
    seq = models.BigIntegerField()
    time = models.DateTimeField()
    action = models.CharField(max_length=100)
    actor_kind = models.CharField(max_length=20, choices=ActorKind.choices)
    actor_id = models.CharField(max_length=100, blank=True)
    actor_label = models.CharField(max_length=254, blank=True)
    vendor_public_id = models.UUIDField(null=True, blank=True)
    tenant_public_id = models.UUIDField(null=True, blank=True)
    tenant_ref = models.CharField(max_length=128, blank=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Decided at write time from audit.visibility; part of the hashed content.
    vendor_visible = models.BooleanField(default=False)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_event_chain_seq"),
        ]
        indexes = [
            # The vendor page: vendor-visible events of a vendor, newest first, keyset by time.
            models.Index(
                fields=["vendor_public_id", "vendor_visible", "-time", "-event_id"],
                name="audit_vendor_visible_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} #{self.seq}"


class AuditCheckpoint(models.Model):
    """A signed checkpoint the broker published (L-06). Append-only like the events (0004).

    ``body`` is the exact JSON written to the WORM sinks and served to the tenant API, so every
    copy is byte-identical; ``seq``, ``hash`` and ``issued_at`` repeat it for queries.
    """

    chain = models.ForeignKey(AuditChainHead, on_delete=models.PROTECT, related_name="checkpoints")
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    issued_at = models.DateTimeField()
    body = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_checkpoint_chain_seq"),
        ]

    def __str__(self) -> str:
        return f"checkpoint {self.chain_id} @ {self.seq}"


class NotificationSubscription(models.Model):
    """An organisation admin's opt-in to e-mails about security-relevant events."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="audit_subscriptions"
    )
    vendor_public_id = models.UUIDField()
    tenant_public_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "vendor_public_id"],
                condition=models.Q(tenant_public_id__isnull=True),
                name="audit_subscription_vendor_once",
            ),
            models.UniqueConstraint(
                fields=["user", "tenant_public_id"],
                condition=models.Q(tenant_public_id__isnull=False),
                name="audit_subscription_tenant_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} -> {self.tenant_public_id or self.vendor_public_id}"
