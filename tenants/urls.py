"""Tenant URLs: vendor side under /vendors/<vendor>/tenants/, tenant side under /tenants/<t>/."""

from __future__ import annotations

from django.urls import path

from tenants.views import tenant_side, vendor_side

app_name = "tenants"

urlpatterns = [
    path("vendors/<uuid:vendor>/tenants/", vendor_side.tenant_list, name="vendor_list"),
    path("vendors/<uuid:vendor>/tenants/new/", vendor_side.tenant_create, name="vendor_create"),
    path(
        "vendors/<uuid:vendor>/tenants/<uuid:tenant>/",
        vendor_side.tenant_detail,
        name="vendor_detail",
    ),
    path("tenants/<uuid:tenant>/", tenant_side.dashboard, name="dashboard"),
    path("tenants/<uuid:tenant>/members/", tenant_side.members, name="members"),
    path("tenants/<uuid:tenant>/members/invite/", tenant_side.invite, name="invite"),
    path(
        "tenants/<uuid:tenant>/members/<uuid:user>/role/",
        tenant_side.member_role,
        name="member_role",
    ),
    path(
        "tenants/<uuid:tenant>/members/<uuid:user>/remove/",
        tenant_side.member_remove,
        name="member_remove",
    ),
    path(
        "tenants/<uuid:tenant>/invitations/<uuid:invitation>/resend/",
        tenant_side.invitation_resend_view,
        name="invitation_resend",
    ),
    path(
        "tenants/<uuid:tenant>/invitations/<uuid:invitation>/revoke/",
        tenant_side.invitation_revoke_view,
        name="invitation_revoke",
    ),
]
