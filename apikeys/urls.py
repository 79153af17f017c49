"""Mounted once at the root by broker/urls.py: the REST API and the key-management pages."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("api/v1/", include("broker.api_urls")),
    path("", include("apikeys.portal_urls")),
]
