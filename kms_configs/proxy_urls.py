"""``/api/v1/proxy/`` (docs/sync-protocol.md), mounted by broker/urls.py."""

from __future__ import annotations

from django.urls import path

from kms_configs import proxy_api

app_name = "proxy_api"

urlpatterns = [
    path("bundles", proxy_api.bundles, name="bundles"),
    path("heartbeat", proxy_api.heartbeat, name="heartbeat"),
    path("tenants/<str:tenant_id>/secrets", proxy_api.tenant_secrets, name="tenant_secrets"),
]
