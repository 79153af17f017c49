"""What every ``/api/v1/vendor/`` and ``/api/v1/tenant/`` view shares (docs/api.md).

Key authentication, one permission rule (key kind + scope), per-IP and per-key throttles in the
shared cache (Redis in production, so limits hold across workers: H-01), one error format, and
one ``api.request`` audit event per authenticated call (DESIGN.md §9).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from apikeys.authentication import ApiKeyAuthentication, key_actor, principal_key
from apikeys.models import ApiKey
from apikeys.schema import ApiAutoSchema
from apikeys.services import api_key_touch
from audit.middleware import client_ip
from audit.services import record


class KeyScopePermission(BasePermission):
    """The key is of the view's kind and holds the view's scope; otherwise 403 (K-04)."""

    message = "This API key may not use this endpoint."

    def has_permission(self, request: Request, view: Any) -> bool:
        key = principal_key(request)
        if key is None:
            raise exceptions.NotAuthenticated
        return key.kind == view.key_kind and view.required_scope in key.scopes


class _Throttle(SimpleRateThrottle):
    setting = ""
    default = ""

    def get_rate(self) -> str:
        # Read at request time so operators (and tests) can change limits through settings.
        return str(getattr(settings, self.setting, self.default))


class KeyRateThrottle(_Throttle):
    scope = "api_key"
    setting, default = "OPENCMK_API_RATE_PER_KEY", "600/min"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        key = principal_key(request)
        return None if key is None else self.cache_format % {"scope": self.scope, "ident": key.pk}


class IpRateThrottle(_Throttle):
    scope = "api_ip"
    setting, default = "OPENCMK_API_RATE_PER_IP", "1200/min"

    def get_cache_key(self, request: Request, view: Any) -> str:
        # REMOTE_ADDR only: a spoofed X-Forwarded-For must not reset the count (as audit does).
        ident = client_ip(request._request) or "unknown"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ConflictError(exceptions.APIException):
    """409: the request is valid but clashes with the current state (taken id, used invitation)."""

    status_code = 409
    default_code = "conflict"
    default_detail = "The request conflicts with the current state."

    def __init__(self, detail: str | None = None, fields: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.fields = fields or {}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error as ``{"error": code, "detail": text, "fields": {…}}``."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    response.data = error_body(exc)
    return response


def error_body(exc: exceptions.APIException) -> dict[str, Any]:
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        return {"error": "invalid", "detail": "The request is not valid.", "fields": fields}
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    return {"error": code, "detail": str(exc.detail), "fields": getattr(exc, "fields", {})}


class BaseApi(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [KeyScopePermission]
    throttle_classes = [KeyRateThrottle]
    schema = ApiAutoSchema()
    key_kind: ClassVar[str]
    required_scope: str  # views needing another scope per method set it in get_permissions

    def get_exception_handler(self) -> Any:
        return api_exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # The per-IP limit comes before authentication, so floods of bad keys are limited too.
        ip_throttle = IpRateThrottle()
        if not ip_throttle.allow_request(request, self):
            self.throttled(request, ip_throttle.wait() or 1.0)
        super().initial(request, *args, **kwargs)

    def finalize_response(
        self, request: Request, response: Any, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        key = principal_key(request)
        if key is not None:
            _audit_use(request, key, response.status_code)
        return response  # type: ignore[no-any-return]

    @property
    def key(self) -> ApiKey:
        key = principal_key(self.request)
        assert key is not None
        return key

    @property
    def actor(self) -> Any:
        return key_actor(self.key)


def _audit_use(request: Request, key: ApiKey, status: int) -> None:
    """One ``api.request`` event per call, with the key's prefix and never the key (K-08)."""
    ip = client_ip(request._request)
    new_ip = api_key_touch(key=key, ip=ip)
    with transaction.atomic():
        record(
            action="api.request",
            actor=key_actor(key),
            vendor=key.vendor,
            tenant=key.tenant,
            target=request.path[:200],
            outcome="success"
            if status < 400
            else ("denied" if status in (401, 403) else "failure"),
            data={
                "method": request.method,
                "path": request.path[:200],
                "status": status,
                "prefix": key.prefix,
                "new_ip": new_ip,
            },
        )


class StrictSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """JSON input where a string field must be a JSON string: DRF would turn 12 into "12"."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            wrong = {
                name: ["Not a valid string."]
                for name, field in self.fields.items()
                if isinstance(field, serializers.CharField)
                and name in data
                and data[name] is not None
                and not isinstance(data[name], str)
            }
            if wrong:
                raise exceptions.ValidationError(wrong)
        return super().to_internal_value(data)


def query_data(request: Request) -> dict[str, str]:
    """Query parameters as a plain dict: DRF reads a QueryDict with HTML-form leniency
    (``?status=`` would mean "not given"), while a JSON API should refuse what it cannot use."""
    return {name: request.query_params[name] for name in request.query_params}
