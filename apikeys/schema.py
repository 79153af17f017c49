"""OpenAPI description of API-key authentication and the schema/docs views."""

from __future__ import annotations

from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers


class ApiKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "apikeys.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A vendor key (ocv_…) or tenant key (oct_…), created in the portal.",
        }


class ErrorOut(serializers.Serializer):
    """The one shape of every API error (``apikeys.api_base.api_exception_handler``)."""

    error = serializers.CharField(help_text="A stable code: invalid, not_found, throttled, …")
    detail = serializers.CharField()
    # Declared fields are popped off the class by DRF, so this does not shadow .fields.
    fields = serializers.DictField(help_text="Per-field messages when error is 'invalid'.")  # type: ignore[assignment]


# Every operation can answer these; listing them lets clients (and schemathesis) rely on them.
_ERRORS = {
    "400": "Invalid request (see fields), or a key sent in the URL",
    "401": "Missing, malformed, expired or revoked API key",
    "403": "This key's kind or scopes do not allow the operation",
    "404": "No such object in this organisation",
    "429": "Rate limit reached; retry after the Retry-After header's seconds",
}


class ApiAutoSchema(AutoSchema):
    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        super()._insert_field_validators(field, schema)
        # DRF's CharField refuses NUL (PostgreSQL text cannot hold it); say so in the schema, so a
        # client generating "valid" strings does not get a 400 it was not told about.
        nul_refused = any(isinstance(v, ProhibitNullCharactersValidator) for v in field.validators)
        if nul_refused and schema.get("type") == "string" and "pattern" not in schema:
            schema["pattern"] = "^[^\\u0000]*$"

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code, text in _ERRORS.items():
            if code not in responses:
                body = self._get_response_for_code(ErrorOut, code, direction=direction)
                responses[code] = {**body, "description": text}
        return responses


class SchemaApi(SpectacularAPIView):
    """The OpenAPI 3 schema as JSON (the page below renders it)."""

    renderer_classes = [OpenApiJsonRenderer]


@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    return render(request, "apikeys/api_docs.html", {"schema_url": reverse("api:schema")})
