"""Pages a tenant's own members see. Access goes through the tenant chokepoint."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import InviteForm, RoleForm
from accounts.memberships import LastAdminError
from accounts.models import Invitation
from accounts.roles import Capability
from accounts.services import InvitationError, invitation_resend, invitation_revoke
from accounts.types import AuthenticatedRequest
from audit.actors import Actor
from audit.services import record_view
from kms_configs.selectors import tenant_proxy_status
from tenants import selectors, services
from tenants.access import tenant_for_user


@login_required
@require_http_methods(["GET"])
def dashboard(request: AuthenticatedRequest, tenant: UUID) -> HttpResponse:
    access = tenant_for_user(request, tenant, Capability.TENANT_VIEW)
    context = {
        "access": access,
        "tenant": access.tenant,
        "steps": selectors.tenant_status_steps(tenant=access.tenant),
        "member_count": access.tenant.memberships.count(),
        "proxy_status": tenant_proxy_status(tenant=access.tenant),
        "section": "dashboard",
    }
    return render(request, "tenants/dashboard.html", context)


@login_required
@require_http_methods(["GET"])
def members(request: AuthenticatedRequest, tenant: UUID) -> HttpResponse:
    access = tenant_for_user(request, tenant, Capability.TENANT_VIEW)
    record_view(request, action="tenant_members.viewed", vendor=None, tenant=access.tenant)
    context = {
        "access": access,
        "tenant": access.tenant,
        "members": selectors.tenant_member_list(tenant=access.tenant),
        "invitations": selectors.tenant_invitation_list(
            tenant=access.tenant, issued_by=Invitation.Kind.TENANT
        )
        if access.is_admin
        else [],
        "role_form": RoleForm(),
        "section": "members",
    }
    return render(request, "tenants/members.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def invite(request: AuthenticatedRequest, tenant: UUID) -> HttpResponse:
    access = tenant_for_user(request, tenant, Capability.TENANT_MANAGE_MEMBERS)
    form = InviteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.tenant_invite(
            actor=Actor.from_request(request),
            tenant=access.tenant,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            invited_by=request.user,
        )
        messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
        return redirect("tenants:members", tenant=tenant)
    context = {"access": access, "tenant": access.tenant, "form": form, "section": "members"}
    return render(request, "tenants/invite.html", context)


@login_required
@require_POST
def member_role(request: AuthenticatedRequest, tenant: UUID, user: UUID) -> HttpResponse:
    access = tenant_for_user(request, tenant, Capability.TENANT_MANAGE_MEMBERS)
    membership = selectors.tenant_member_get(tenant=access.tenant, user_public_id=user)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
    else:
        try:
            services.tenant_member_role_change(
                actor=Actor.from_request(request),
                membership=membership,
                role=form.cleaned_data["role"],
            )
            messages.success(
                request, f"{membership.user.email} is now {membership.get_role_display()}."
            )
        except LastAdminError as exc:
            messages.error(request, str(exc))
    return redirect("tenants:members", tenant=tenant)


@login_required
@require_POST
def member_remove(request: AuthenticatedRequest, tenant: UUID, user: UUID) -> HttpResponse:
    access = tenant_for_user(request, tenant, Capability.TENANT_MANAGE_MEMBERS)
    membership = selectors.tenant_member_get(tenant=access.tenant, user_public_id=user)
    try:
        services.tenant_member_remove(actor=Actor.from_request(request), membership=membership)
        messages.success(request, f"{membership.user.email} no longer has access.")
    except LastAdminError as exc:
        messages.error(request, str(exc))
    if membership.user_id == request.user.pk:
        return redirect("home")
    return redirect("tenants:members", tenant=tenant)


@login_required
@require_POST
def invitation_resend_view(
    request: AuthenticatedRequest, tenant: UUID, invitation: UUID
) -> HttpResponse:
    access = tenant_for_user(request, tenant, Capability.TENANT_MANAGE_MEMBERS)
    inv = selectors.tenant_invitation_get(
        tenant=access.tenant, public_id=invitation, issued_by=Invitation.Kind.TENANT
    )
    try:
        invitation_resend(actor=Actor.from_request(request), invitation=inv)
        messages.success(
            request, f"A new invitation link was sent to {inv.email}; the old one no longer works."
        )
    except InvitationError as exc:
        messages.error(request, str(exc))
    return redirect("tenants:members", tenant=tenant)


@login_required
@require_POST
def invitation_revoke_view(
    request: AuthenticatedRequest, tenant: UUID, invitation: UUID
) -> HttpResponse:
    access = tenant_for_user(request, tenant, Capability.TENANT_MANAGE_MEMBERS)
    inv = selectors.tenant_invitation_get(
        tenant=access.tenant, public_id=invitation, issued_by=Invitation.Kind.TENANT
    )
    try:
        invitation_revoke(actor=Actor.from_request(request), invitation=inv)
        messages.success(request, f"The invitation for {inv.email} was revoked.")
    except InvitationError as exc:
        messages.error(request, str(exc))
    return redirect("tenants:members", tenant=tenant)
