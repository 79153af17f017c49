from __future__ import annotations

from django.urls import path

from apikeys import views

app_name = "apikeys"

urlpatterns = [
    path("vendors/<uuid:vendor>/api-keys/", views.vendor_keys, name="vendor_keys"),
    path(
        "vendors/<uuid:vendor>/api-keys/<uuid:key>/revoke/",
        views.vendor_key_revoke,
        name="vendor_key_revoke",
    ),
    path("tenants/<uuid:tenant>/api-keys/", views.tenant_keys, name="tenant_keys"),
    path(
        "tenants/<uuid:tenant>/api-keys/<uuid:key>/revoke/",
        views.tenant_key_revoke,
        name="tenant_key_revoke",
    ),
]
