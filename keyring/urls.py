from __future__ import annotations

from django.urls import path

from keyring import api, views

app_name = "keyring"

urlpatterns = [
    path("", views.user_key, name="user_key"),
    path("api/user-key/", api.user_key_create, name="api_user_key_create"),
    path("api/user-key/passphrase/", api.user_key_passphrase, name="api_user_key_passphrase"),
    path("api/user-key/delete/", api.user_key_delete, name="api_user_key_delete"),
    path("vendors/<uuid:public_id>/", views.vendor_keys, name="vendor_keys"),
    path("vendors/<uuid:public_id>/approvals/", views.tenant_root_approvals, name="approvals"),
    path("vendors/<uuid:public_id>/clusters/", views.clusters, name="clusters"),
    path("vendors/<uuid:public_id>/api/root/", api.vendor_root, name="api_vendor_root"),
    path("vendors/<uuid:public_id>/api/shares/", api.vendor_share, name="api_vendor_share"),
    path(
        "vendors/<uuid:public_id>/api/tenant-roots/<uuid:root_id>/approve/",
        api.tenant_root_approve,
        name="api_tenant_root_approve",
    ),
    path(
        "vendors/<uuid:public_id>/api/clusters/", api.cluster_register, name="api_cluster_register"
    ),
    path(
        "vendors/<uuid:public_id>/api/clusters/<uuid:cluster_id>/revoke/",
        api.cluster_revoke,
        name="api_cluster_revoke",
    ),
    path("tenants/<uuid:public_id>/", views.tenant_keys, name="tenant_keys"),
    path("tenants/<uuid:public_id>/api/root/", api.tenant_root, name="api_tenant_root"),
    path("tenants/<uuid:public_id>/api/shares/", api.tenant_share, name="api_tenant_share"),
]
