"""Reads about API keys, scoped to the organisation first."""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404

from apikeys.models import ApiKey
from tenants.models import Tenant
from vendors.models import Vendor


def api_key_list(*, vendor: Vendor, tenant: Tenant | None = None) -> QuerySet[ApiKey]:
    return (
        ApiKey.objects.filter(vendor=vendor, tenant=tenant)
        .select_related("created_by")
        .order_by("revoked_at", "-created_at")
    )


def api_key_get(*, vendor: Vendor, tenant: Tenant | None, public_id: UUID) -> ApiKey:
    key = ApiKey.objects.filter(vendor=vendor, tenant=tenant, public_id=public_id).first()
    if key is None:
        raise Http404("No such API key.")
    return key
