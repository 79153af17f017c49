"""Vendor REST API over proxy clusters: read-only.

Registering or revoking a cluster needs a statement signed with the vendor root key, which only
exists in an admin's browser, so an API key can list clusters but never change them.
"""

from __future__ import annotations

from uuid import UUID

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apikeys.api_base import BaseApi
from apikeys.models import KeyKind, Scope
from keyring.models import ClusterStatus


class ClusterOut(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    cluster_id = serializers.CharField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=ClusterStatus.choices)
    signing_public = serializers.CharField()
    encryption_public = serializers.CharField()
    created_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)


class _ClusterApi(BaseApi):
    key_kind = KeyKind.VENDOR
    required_scope = Scope.TENANTS_READ


class ClusterListApi(_ClusterApi):
    @extend_schema(operation_id="clusters_list", responses=ClusterOut(many=True))
    def get(self, request: Request) -> Response:
        rows = self.key.vendor.proxy_clusters.order_by("name", "public_id")[:500]
        return Response(ClusterOut(rows, many=True).data)


class ClusterDetailApi(_ClusterApi):
    @extend_schema(operation_id="clusters_get", responses=ClusterOut)
    def get(self, request: Request, cluster: UUID) -> Response:
        row = self.key.vendor.proxy_clusters.filter(public_id=cluster).first()
        if row is None:
            raise Http404("No such cluster.")
        return Response(ClusterOut(row).data)
