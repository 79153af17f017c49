"""OpenAPI description of API-key authentication and the schema/docs views."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.views import SpectacularAPIView


class ApiKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "apikeys.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A vendor key (ocv_…) or tenant key (oct_…), created in the portal.",
        }


class SchemaApi(SpectacularAPIView):
    """The OpenAPI 3 schema as JSON (the page below renders it)."""

    renderer_classes = [OpenApiJsonRenderer]


@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    return render(request, "apikeys/api_docs.html", {"schema_url": reverse("api:schema")})
