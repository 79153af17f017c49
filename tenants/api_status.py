"""The tenant status both APIs return: lifecycle, policy version, root key, proxy heartbeats."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from tenants.models import Tenant


class ReplicaOut(serializers.Serializer):
    cluster_id = serializers.CharField()
    cluster_name = serializers.CharField()
    instance_id = serializers.CharField()
    policy_version = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    ready = serializers.BooleanField()
    last_heartbeat_at = serializers.DateTimeField(source="received_at")
    age_seconds = serializers.IntegerField()
    stale = serializers.BooleanField()


class TenantStatusOut(serializers.Serializer):
    id = serializers.UUIDField()
    tenant_id = serializers.CharField()
    status = serializers.CharField()
    policy_version = serializers.IntegerField()
    root_key_status = serializers.CharField(allow_null=True)
    last_heartbeat_at = serializers.DateTimeField(allow_null=True)
    proxies = ReplicaOut(many=True)


def tenant_status(*, tenant: Tenant) -> dict[str, Any]:
    # The SPINE engineer's selector (kms_configs) owns heartbeat reads; reuse it.
    from keyring.models import OrgRootKey
    from kms_configs.selectors import tenant_proxy_status

    proxy = tenant_proxy_status(tenant=tenant)
    root = OrgRootKey.objects.filter(tenant=tenant).values_list("status", flat=True).first()
    return {
        "id": tenant.public_id,
        "tenant_id": tenant.tenant_id,
        "status": tenant.status,
        "policy_version": tenant.policy_version,
        "root_key_status": root,
        "last_heartbeat_at": max((r.received_at for r in proxy.replicas), default=None),
        "proxies": proxy.replicas,
    }
