"""Sealed configs, signed tenant policies, the sync change log, heartbeats and tenant secrets.

The broker stores what browsers and proxies made and cannot read any of it: configs are sealed
(DESIGN.md §4), policies are signed by the tenant root (§3), tenant secrets are KMS-wrapped
(§7). Every row the proxies sync from is reachable through the change log, whose ids are the
cursor positions of docs/sync-protocol.md §2.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from keyring.models import ProxyCluster
from tenants.models import Tenant
from vendors.models import Vendor


class ConfigKind(models.TextChoices):
    KMS = "kms", "KMS"
    LOGGING = "logging", "Logging"


class ConfigId(models.Model):
    """A config id reserved for one tenant and kind before the browser seals under it.

    The id is inside the sealed blob's AD and inside every EDEK, so it is handed out first and
    never reused: random in [1, 2^31-1], unique across the broker (DESIGN.md §4).
    """

    config_id = models.PositiveIntegerField(unique=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="config_ids")
    kind = models.CharField(max_length=10, choices=ConfigKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"config id {self.config_id} ({self.kind})"


class SealedConfig(models.Model):
    """One version of a sealed config; edits and new recipients add versions, never overwrite."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="sealed_configs")
    config_id = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=ConfigKind.choices)
    provider = models.CharField(max_length=40)
    label = models.CharField(max_length=200, blank=True)  # non-secret, chosen by the tenant
    sealed = models.JSONField()  # exactly as uploaded: proxies open these very bytes
    content_digest = models.CharField(max_length=44)
    # The newest version of each config id; bundles serve only these.
    current = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["config_id"], condition=Q(current=True), name="one_current_sealed_config"
            )
        ]
        indexes = [models.Index(fields=["tenant", "config_id"], name="sealed_tenant_config")]

    def __str__(self) -> str:
        return f"sealed {self.kind} config {self.config_id}"


class TenantPolicy(models.Model):
    """Every signed ``tenant-policy`` version of a tenant, kept forever (the policy history)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="policies")
    version = models.PositiveIntegerField()
    statement = models.JSONField()  # {"type", "kid", "payload", "sig"} exactly as signed
    payload = models.JSONField()  # parsed after the signature verified, for pages and queries
    signer_kid = models.CharField(max_length=32)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    current = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "version"], name="uniq_policy_version"),
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(current=True), name="one_current_policy"
            ),
        ]

    def __str__(self) -> str:
        return f"policy v{self.version} of {self.tenant_id}"


class PolicyCluster(models.Model):
    """A cluster id a policy version allows: lets bundle queries filter by cluster in SQL."""

    policy = models.ForeignKey(TenantPolicy, on_delete=models.CASCADE, related_name="cluster_rows")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    cluster_id = models.CharField(max_length=64)
    current = models.BooleanField(default=True)

    class Meta:
        indexes = [
            models.Index(fields=["cluster_id", "current", "tenant"], name="policy_cluster_served")
        ]

    def __str__(self) -> str:
        return f"{self.cluster_id} in policy {self.policy_id}"


class ChangeKind(models.TextChoices):
    POLICY = "policy", "Policy signed"
    TENANT_ROOT = "tenant_root", "Tenant root approved"
    CLUSTER = "cluster", "Cluster registered"
    REVOCATION = "revocation", "Cluster revoked"
    TENANT_DELETED = "tenant_deleted", "Tenant deleted"


class ChangeLog(models.Model):
    """The monotonic change stream proxies poll; ``id`` is the cursor position.

    Rows of one vendor are written under a lock on that vendor's row, so their ids grow in
    commit order and a poll can never skip a row that commits late. Vendor and tenant are plain
    references without database constraints: a deletion row must outlive its tenant.
    """

    vendor = models.ForeignKey(
        Vendor, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    tenant = models.ForeignKey(
        Tenant, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    tenant_ref = models.CharField(max_length=128, blank=True)  # the tenant id string
    kind = models.CharField(max_length=20, choices=ChangeKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["vendor", "id"], name="changelog_vendor_seq")]

    def __str__(self) -> str:
        return f"change {self.id} {self.kind} {self.tenant_ref}"


class ProxyHeartbeat(models.Model):
    """The latest heartbeat of one proxy replica for one tenant (docs/sync-protocol.md §3)."""

    cluster = models.ForeignKey(ProxyCluster, on_delete=models.CASCADE, related_name="+")
    instance_id = models.CharField(max_length=200)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="heartbeats")
    proxy_version = models.CharField(max_length=40, blank=True)
    ready = models.BooleanField(default=False)
    policy_version = models.PositiveIntegerField(null=True)
    status = models.CharField(max_length=20)
    rejection = models.CharField(max_length=64, blank=True)
    configs = models.JSONField(default=list)  # per config: state, canary, last error, counters
    events = models.JSONField(default=dict)
    sent_at = models.DateTimeField(null=True)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "instance_id", "tenant"], name="one_heartbeat_per_replica"
            )
        ]
        indexes = [models.Index(fields=["tenant", "-received_at"], name="heartbeat_tenant_recent")]

    def __str__(self) -> str:
        return f"heartbeat {self.instance_id} for {self.tenant_id}"


class SecretStatus(models.TextChoices):
    CURRENT = "current", "Current"
    IN_ROTATION = "in_rotation", "In rotation"
    ARCHIVED = "archived", "Archived"


class SecretType(models.TextChoices):
    SEARCH = "search", "Search"
    DETERMINISTIC = "deterministic", "Deterministic"
    VECTOR = "vector", "Vector"


class TenantSecret(models.Model):
    """A 32-byte tenant secret wrapped by the tenant's KMS: opaque to the broker (§7)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="tenant_secrets")
    tenant_secret_id = models.PositiveBigIntegerField(unique=True)
    secret_path = models.CharField(max_length=256)
    secret_type = models.CharField(max_length=16, choices=SecretType.choices)
    kms_config_id = models.PositiveIntegerField()
    encrypted_secret = models.TextField()
    status = models.CharField(
        max_length=16, choices=SecretStatus.choices, default=SecretStatus.CURRENT
    )
    created_by_cluster = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # First write wins (docs/sync-protocol.md §4): the database decides the race.
            models.UniqueConstraint(
                fields=["tenant", "secret_path", "secret_type"],
                condition=Q(status="current"),
                name="one_current_tenant_secret",
            )
        ]
        indexes = [models.Index(fields=["tenant", "secret_path"], name="secret_tenant_path")]

    def __str__(self) -> str:
        return f"tenant secret {self.tenant_secret_id}"
