"""URL map of the broker. Each app mounts its own namespaced URLs."""

from __future__ import annotations

from django.urls import include, path

from broker import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("keys/", include("keyring.urls")),
    path("", include("accounts.urls")),
    path("vendors/", include("vendors.urls")),
    path("", include("tenants.urls")),
    path("audit/", include("audit.urls")),
    path("api/v1/proxy/", include("kms_configs.proxy_urls")),
    path("kms/", include("kms_configs.page_urls")),
    path("", include("apikeys.urls")),  # /api/v1/vendor|tenant|schema|docs, key pages
    path("security/", include("broker.security.urls")),  # CSP violation reports (H-03)
]
