"""Vendor REST API over tenants (``/api/v1/vendor/tenants…``) and the tenant's own status.

Views are thin: validate with an input serializer, call the same service as the portal,
answer with an output serializer. Tenants are looked up inside the key's vendor, so another
vendor's tenant is 404, never 403 (Z-01).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apikeys.api_base import BaseApi, ConflictError, StrictSerializer, query_data
from apikeys.models import KeyKind, Scope
from apikeys.schema import ErrorOut
from tenants.api_status import TenantStatusOut, tenant_status
from tenants.lifecycle import BULK_MAX, BulkItem, tenant_create_bulk, tenant_delete, tenant_rename
from tenants.models import TENANT_ID_RE, Tenant, TenantStatus
from tenants.selectors import tenant_get_for_vendor, tenant_page
from tenants.services import TenantIdTakenError, tenant_create


class TenantOut(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    tenant_id = serializers.CharField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=TenantStatus.choices)
    policy_version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


# A name must contain something besides spaces (leading and trailing spaces are trimmed).
_NAME_RE = r"\S"


class TenantCreateIn(StrictSerializer):
    tenant_id = serializers.RegexField(TENANT_ID_RE, max_length=128)
    name = serializers.RegexField(_NAME_RE, max_length=200)
    admin_email = serializers.EmailField(required=False, allow_null=True, default=None)


class TenantUpdateIn(StrictSerializer):
    """PATCH semantics: fields left out stay as they are."""

    name = serializers.RegexField(_NAME_RE, max_length=200, required=False)


class TenantListQuery(StrictSerializer):
    search = serializers.CharField(required=False, default="", allow_blank=True, max_length=200)
    status = serializers.ChoiceField(choices=TenantStatus.choices, required=False, default="")
    cursor = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, default=None, max_length=800
    )
    limit = serializers.IntegerField(required=False, default=50, min_value=1, max_value=200)


class TenantPageOut(serializers.Serializer):
    results = TenantOut(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class TenantBulkIn(StrictSerializer):
    # Items are validated one by one in the view, so one bad item cannot fail the whole call.
    tenants = serializers.ListField(
        child=serializers.DictField(), min_length=1, max_length=BULK_MAX
    )


class BulkItemOut(serializers.Serializer):
    index = serializers.IntegerField()
    ok = serializers.BooleanField()
    tenant = TenantOut(allow_null=True)
    errors = serializers.DictField(allow_null=True)  # type: ignore[assignment]


class TenantBulkOut(serializers.Serializer):
    created = serializers.IntegerField()
    failed = serializers.IntegerField()
    results = BulkItemOut(many=True)


class _VendorApi(BaseApi):
    key_kind = KeyKind.VENDOR
    required_scope = Scope.TENANTS_READ

    def tenant(self, public_id: UUID) -> Tenant:
        return tenant_get_for_vendor(vendor=self.key.vendor, public_id=public_id)


class TenantListCreateApi(_VendorApi):
    def get_permissions(self) -> Any:
        self.required_scope = (
            Scope.TENANTS_WRITE if self.request.method == "POST" else (Scope.TENANTS_READ)
        )
        return super().get_permissions()

    @extend_schema(
        operation_id="tenants_list", parameters=[TenantListQuery], responses=TenantPageOut
    )
    def get(self, request: Request) -> Response:
        query = TenantListQuery(data=query_data(request))
        query.is_valid(raise_exception=True)
        q = query.validated_data
        page = tenant_page(
            vendor=self.key.vendor,
            search=q["search"],
            status=q["status"],
            after=q["cursor"],
            per_page=q["limit"],
        )
        body = {"results": page.items, "next_cursor": page.next_cursor}
        return Response(TenantPageOut(body).data)

    @extend_schema(
        operation_id="tenants_create",
        request=TenantCreateIn,
        responses={201: TenantOut, 409: ErrorOut},
    )
    def post(self, request: Request) -> Response:
        data = TenantCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            tenant = tenant_create(actor=self.actor, vendor=self.key.vendor, **data.validated_data)
        except TenantIdTakenError as exc:
            raise ConflictError("The tenant id is taken.", fields=exc.message_dict) from None
        return Response(TenantOut(tenant).data, status=status.HTTP_201_CREATED)


class TenantBulkCreateApi(_VendorApi):
    required_scope = Scope.TENANTS_WRITE

    @extend_schema(
        operation_id="tenants_bulk_create",
        request=TenantBulkIn,
        responses={207: TenantBulkOut, 201: TenantBulkOut},
    )
    def post(self, request: Request) -> Response:
        outer = TenantBulkIn(data=request.data)
        outer.is_valid(raise_exception=True)
        items: list[BulkItem | None] = []
        errors: dict[int, Any] = {}
        for index, raw in enumerate(outer.validated_data["tenants"]):
            parsed = TenantCreateIn(data=raw)
            if parsed.is_valid():
                items.append(BulkItem(**parsed.validated_data))
            else:
                items.append(None)
                errors[index] = parsed.errors
        valid = [i for i in items if i is not None]
        created = iter(tenant_create_bulk(actor=self.actor, vendor=self.key.vendor, items=valid))
        results = []
        for index, item in enumerate(items):
            if item is None:
                results.append(
                    {"index": index, "ok": False, "tenant": None, "errors": errors[index]}
                )
                continue
            result = next(created)
            ok = result.tenant is not None
            results.append(
                {"index": index, "ok": ok, "tenant": result.tenant, "errors": result.errors}
            )
        n_ok = sum(1 for r in results if r["ok"])
        body = {"created": n_ok, "failed": len(results) - n_ok, "results": results}
        # 201 when everything was created; 207 Multi-Status when some items failed.
        code = status.HTTP_201_CREATED if n_ok == len(results) else status.HTTP_207_MULTI_STATUS
        return Response(TenantBulkOut(body).data, status=code)


class TenantDetailApi(_VendorApi):
    def get_permissions(self) -> Any:
        if self.request.method in ("PATCH", "DELETE"):
            self.required_scope = Scope.TENANTS_WRITE
        return super().get_permissions()

    @extend_schema(operation_id="tenants_get", responses=TenantOut)
    def get(self, request: Request, tenant: UUID) -> Response:
        return Response(TenantOut(self.tenant(tenant)).data)

    @extend_schema(operation_id="tenants_update", request=TenantUpdateIn, responses=TenantOut)
    def patch(self, request: Request, tenant: UUID) -> Response:
        obj = self.tenant(tenant)
        data = TenantUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        if "name" in data.validated_data:
            obj = tenant_rename(actor=self.actor, tenant=obj, name=data.validated_data["name"])
        return Response(TenantOut(obj).data)

    @extend_schema(
        operation_id="tenants_delete", responses={204: OpenApiResponse(description="Deleted")}
    )
    def delete(self, request: Request, tenant: UUID) -> Response:
        tenant_delete(actor=self.actor, tenant=self.tenant(tenant))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TenantStatusApi(_VendorApi):
    @extend_schema(operation_id="tenants_status", responses=TenantStatusOut)
    def get(self, request: Request, tenant: UUID) -> Response:
        return Response(TenantStatusOut(tenant_status(tenant=self.tenant(tenant))).data)


class OwnTenantStatusApi(BaseApi):
    """Tenant API: the key's own tenant."""

    key_kind = KeyKind.TENANT
    required_scope = Scope.STATUS_READ

    @extend_schema(operation_id="tenant_status", responses=TenantStatusOut)
    def get(self, request: Request) -> Response:
        tenant = self.key.tenant
        assert tenant is not None
        return Response(TenantStatusOut(tenant_status(tenant=tenant)).data)
