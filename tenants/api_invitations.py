"""Vendor REST API over the invitations of a tenant's first admins.

Only invitations the vendor issued for this tenant are visible here: the tenant's own invitations
to colleagues are the tenant's business, and vendor team invitations are not for API keys.
"""

from __future__ import annotations

from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Invitation, InvitationStatus
from accounts.services import (
    InvitationError,
    invitation_create,
    invitation_resend,
    invitation_revoke,
)
from apikeys.api_base import ConflictError, StrictSerializer
from apikeys.models import Scope
from apikeys.schema import ErrorOut
from tenants.api import _VendorApi
from tenants.selectors import tenant_invitation_get, tenant_invitation_list
from vendors.models import Role


class InvitationOut(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    email = serializers.EmailField()
    role = serializers.CharField()
    status = serializers.ChoiceField(choices=InvitationStatus.choices)
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class InvitationCreateIn(StrictSerializer):
    email = serializers.EmailField()


class _InvitationApi(_VendorApi):
    def invitation(self, tenant: UUID, invitation: UUID) -> Invitation:
        return tenant_invitation_get(
            tenant=self.tenant(tenant), public_id=invitation, issued_by=Invitation.Kind.VENDOR
        )


class InvitationListCreateApi(_InvitationApi):
    def get_permissions(self):  # type: ignore[no-untyped-def]
        if self.request.method == "POST":
            self.required_scope = Scope.TENANTS_WRITE
        return super().get_permissions()

    @extend_schema(operation_id="invitations_list", responses=InvitationOut(many=True))
    def get(self, request: Request, tenant: UUID) -> Response:
        rows = tenant_invitation_list(tenant=self.tenant(tenant), issued_by=Invitation.Kind.VENDOR)
        return Response(InvitationOut(rows[:200], many=True).data)

    @extend_schema(
        operation_id="invitations_create",
        request=InvitationCreateIn,
        responses={201: InvitationOut},
    )
    def post(self, request: Request, tenant: UUID) -> Response:
        obj = self.tenant(tenant)
        data = InvitationCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = invitation_create(
            actor=self.actor,
            vendor=obj.vendor,
            tenant=obj,
            issued_by=Invitation.Kind.VENDOR,
            email=data.validated_data["email"],
            role=Role.ADMIN,
        )
        return Response(InvitationOut(invitation).data, status=status.HTTP_201_CREATED)


class InvitationResendApi(_InvitationApi):
    required_scope = Scope.TENANTS_WRITE

    @extend_schema(
        operation_id="invitations_resend",
        request=None,
        responses={200: InvitationOut, 409: ErrorOut},
    )
    def post(self, request: Request, tenant: UUID, invitation: UUID) -> Response:
        try:
            inv = invitation_resend(
                actor=self.actor, invitation=self.invitation(tenant, invitation)
            )
        except InvitationError as exc:
            raise ConflictError(str(exc)) from None
        return Response(InvitationOut(inv).data)


class InvitationRevokeApi(_InvitationApi):
    required_scope = Scope.TENANTS_WRITE

    @extend_schema(
        operation_id="invitations_revoke",
        request=None,
        responses={200: InvitationOut, 409: ErrorOut},
    )
    def post(self, request: Request, tenant: UUID, invitation: UUID) -> Response:
        try:
            inv = invitation_revoke(
                actor=self.actor, invitation=self.invitation(tenant, invitation)
            )
        except InvitationError as exc:
            raise ConflictError(str(exc)) from None
        return Response(InvitationOut(inv).data)
