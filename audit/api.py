"""Audit events over REST: a vendor's visible events, and a tenant's chain for a SIEM to pull.

A tenant's SIEM also pulls the checkpoints the broker published of that chain (L-06), by the
same ``?after=<seq>`` cursor: the broker never holds the tenant's SIEM credentials to push them.

The tenant endpoint is ``?after=<seq>&limit=``, oldest first: a SIEM stores the last ``seq``
it saw and asks for what came after, so nothing is missed or read twice. Each event carries
``prev_hash`` and ``hash``, so the puller can verify the chain itself (docs/audit.md).
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apikeys.api_base import BaseApi, StrictSerializer, query_data
from apikeys.models import KeyKind, Scope
from audit.chain import event_document
from audit.models import AuditEvent
from audit.selectors import (
    AuditFilters,
    tenant_checkpoints,
    tenant_events,
    vendor_events,
    vendor_page,
)

MAX_LIMIT = 500


class AuditEventOut(serializers.Serializer):
    event_id = serializers.UUIDField()
    seq = serializers.IntegerField()
    time = serializers.DateTimeField()
    action = serializers.CharField()
    actor_kind = serializers.CharField()
    actor_id = serializers.CharField()
    actor_label = serializers.CharField()
    tenant = serializers.UUIDField(source="tenant_public_id", allow_null=True)
    tenant_id = serializers.CharField(source="tenant_ref")
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    outcome = serializers.CharField()
    ip = serializers.CharField()
    user_agent = serializers.CharField()
    request_id = serializers.CharField()
    data = serializers.JSONField()  # type: ignore[assignment]
    prev_hash = serializers.CharField()
    hash = serializers.CharField()
    canonical = serializers.SerializerMethodField(
        help_text="The exact document that was hashed: hash = SHA-256(prev_hash bytes || "
        "canonical JSON of this object, keys sorted, no spaces, ASCII) (docs/audit.md)."
    )

    def get_canonical(self, event: AuditEvent) -> dict[str, Any]:
        return event_document(event, event.chain.key)


class VendorEventsQuery(StrictSerializer):
    cursor = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, default=None, max_length=200
    )
    limit = serializers.IntegerField(required=False, default=100, min_value=1, max_value=MAX_LIMIT)


class VendorEventsOut(serializers.Serializer):
    events = AuditEventOut(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class TenantEventsQuery(StrictSerializer):
    after = serializers.IntegerField(required=False, default=0, min_value=0)
    limit = serializers.IntegerField(required=False, default=100, min_value=1, max_value=MAX_LIMIT)


class TenantEventsOut(serializers.Serializer):
    events = AuditEventOut(many=True)
    next_after = serializers.IntegerField(help_text="Pass as ``after`` to get the next events.")
    has_more = serializers.BooleanField()


class VendorAuditEventsApi(BaseApi):
    """Newest first; follow ``next_cursor`` until it is null."""

    key_kind = KeyKind.VENDOR
    required_scope = Scope.AUDIT_READ

    @extend_schema(
        operation_id="vendor_audit_events",
        parameters=[VendorEventsQuery],
        responses=VendorEventsOut,
    )
    def get(self, request: Request) -> Response:
        query = VendorEventsQuery(data=query_data(request))
        query.is_valid(raise_exception=True)
        q = query.validated_data
        events = vendor_events(vendor=self.key.vendor, filters=AuditFilters())
        page = vendor_page(events=events, cursor=q["cursor"], size=q["limit"])
        return Response(
            VendorEventsOut({"events": page.events, "next_cursor": page.next_cursor}).data
        )


class TenantAuditEventsApi(BaseApi):
    key_kind = KeyKind.TENANT
    required_scope = Scope.AUDIT_READ

    @extend_schema(
        operation_id="tenant_audit_events",
        parameters=[TenantEventsQuery],
        responses=TenantEventsOut,
    )
    def get(self, request: Request) -> Response:
        events = tenant_events(tenant=self.key.tenant, filters=AuditFilters())
        rows, page = _after_page(request, events.order_by("seq"))
        return Response(TenantEventsOut({"events": rows, **page}).data)


class CheckpointOut(serializers.Serializer):
    """A published checkpoint exactly as signed (docs/audit.md: how to verify it offline)."""

    type = serializers.CharField()
    chain = serializers.CharField()
    seq = serializers.IntegerField()
    hash = serializers.CharField()
    issued_at = serializers.CharField(help_text="RFC 3339 UTC, six fractional digits, ``Z``.")
    signer = serializers.CharField(help_text="Base64 Ed25519 public key of the broker.")
    sig = serializers.CharField(
        help_text='Base64 Ed25519 signature of "OpenCMK/1/audit-checkpoint\\n" + the sorted, '
        "compact JSON of type, chain, seq, hash, issued_at."
    )


class TenantCheckpointsOut(serializers.Serializer):
    checkpoints = CheckpointOut(many=True)
    next_after = serializers.IntegerField(help_text="Pass as ``after`` to get the next ones.")
    has_more = serializers.BooleanField()


class TenantAuditCheckpointsApi(BaseApi):
    """Signed checkpoints of the tenant's own chain, oldest first, by ``seq`` cursor."""

    key_kind = KeyKind.TENANT
    required_scope = Scope.AUDIT_READ

    @extend_schema(
        operation_id="tenant_audit_checkpoints",
        parameters=[TenantEventsQuery],
        responses=TenantCheckpointsOut,
    )
    def get(self, request: Request) -> Response:
        rows, page = _after_page(request, tenant_checkpoints(tenant=self.key.tenant))
        body = {"checkpoints": [json.loads(row.body) for row in rows], **page}
        return Response(TenantCheckpointsOut(body).data)


def _after_page(request: Request, rows_by_seq: QuerySet[Any]) -> tuple[list[Any], dict[str, Any]]:
    """The ``?after=<seq>&limit=`` page of rows ordered by ``seq``, and its cursor fields."""
    query = TenantEventsQuery(data=query_data(request))
    query.is_valid(raise_exception=True)
    after, limit = query.validated_data["after"], query.validated_data["limit"]
    rows = list(rows_by_seq.filter(seq__gt=after)[: limit + 1])
    more, rows = len(rows) > limit, rows[:limit]
    return rows, {"next_after": rows[-1].seq if rows else after, "has_more": more}
