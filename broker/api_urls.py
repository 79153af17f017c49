"""``/api/v1/vendor/…``, ``/api/v1/tenant/…``, the OpenAPI schema and its docs page (docs/api.md).

The proxy API (``/api/v1/proxy/``) is mounted separately by broker/urls.py.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from apikeys.schema import SchemaApi, api_docs
from audit.api import TenantAuditCheckpointsApi, TenantAuditEventsApi, VendorAuditEventsApi
from tenants.api import (
    OwnTenantStatusApi,
    TenantBulkCreateApi,
    TenantDetailApi,
    TenantListCreateApi,
    TenantStatusApi,
)
from tenants.api_invitations import (
    InvitationListCreateApi,
    InvitationResendApi,
    InvitationRevokeApi,
)
from vendors.api import ClusterDetailApi, ClusterListApi

app_name = "api"


def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    body = {"error": "not_found", "detail": "No such API endpoint or object.", "fields": {}}
    return JsonResponse(body, status=404)


_T = "vendor/tenants/<uuid:tenant>"
_I = f"{_T}/invitations/<uuid:invitation>"

urlpatterns = [
    path("vendor/tenants", TenantListCreateApi.as_view(), name="vendor_tenants"),
    path("vendor/tenants/bulk", TenantBulkCreateApi.as_view(), name="vendor_tenants_bulk"),
    path(_T, TenantDetailApi.as_view(), name="vendor_tenant"),
    path(f"{_T}/status", TenantStatusApi.as_view(), name="vendor_tenant_status"),
    path(f"{_T}/invitations", InvitationListCreateApi.as_view(), name="vendor_invitations"),
    path(f"{_I}/resend", InvitationResendApi.as_view(), name="vendor_invitation_resend"),
    path(f"{_I}/revoke", InvitationRevokeApi.as_view(), name="vendor_invitation_revoke"),
    path("vendor/clusters", ClusterListApi.as_view(), name="vendor_clusters"),
    path("vendor/clusters/<uuid:cluster>", ClusterDetailApi.as_view(), name="vendor_cluster"),
    path("vendor/audit-events", VendorAuditEventsApi.as_view(), name="vendor_audit_events"),
    path("tenant/status", OwnTenantStatusApi.as_view(), name="tenant_status"),
    path("tenant/audit-events", TenantAuditEventsApi.as_view(), name="tenant_audit_events"),
    path(
        "tenant/audit-checkpoints",
        TenantAuditCheckpointsApi.as_view(),
        name="tenant_audit_checkpoints",
    ),
    path("schema/", SchemaApi.as_view(), name="schema"),
    path("docs/", api_docs, name="docs"),
    # Anything else under /api/v1/vendor|tenant (a mistyped path, an id that is not a UUID) is
    # a JSON 404 in the API's error format, not the portal's HTML page.
    re_path(r"^(?P<rest>(?:vendor|tenant)/.*)$", csrf_exempt(not_found), name="not_found"),
]
