"""Tenant KMS configuration pages and the JSON endpoints their module posts to."""

from __future__ import annotations

from django.urls import path

from kms_configs import page_api, views

app_name = "kms_configs_pages"

urlpatterns = [
    path("tenants/<uuid:public_id>/", views.configs, name="configs"),
    path("vendors/<uuid:vendor>/tenants/", views.vendor_overview, name="vendor_overview"),
    path("tenants/<uuid:public_id>/history/", views.history, name="history"),
    path("tenants/<uuid:public_id>/api/config-id/", page_api.config_id, name="api_config_id"),
    path("tenants/<uuid:public_id>/api/policy/", page_api.policy, name="api_policy"),
]
