"""Vendor pages. Each view: chokepoint → form → one service → redirect."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import InviteForm, RoleForm
from accounts.memberships import LastAdminError
from accounts.roles import Capability
from accounts.services import InvitationError, invitation_resend, invitation_revoke
from accounts.types import AuthenticatedRequest
from audit.actors import Actor
from tenants.selectors import tenant_count_by_status
from vendors import selectors, services
from vendors.access import vendor_for_user
from vendors.forms import VendorCreateForm, VendorSettingsForm


@login_required
@require_http_methods(["GET", "POST"])
def create(request: AuthenticatedRequest) -> HttpResponse:
    form = VendorCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        vendor = services.vendor_create(
            actor=Actor.from_request(request), user=request.user, name=form.cleaned_data["name"]
        )
        messages.success(request, f"{vendor.name} is ready. Add your first tenant.")
        return redirect("vendors:dashboard", vendor=vendor.public_id)
    return render(request, "vendors/create.html", {"form": form})


@login_required
@require_http_methods(["GET"])
def dashboard(request: AuthenticatedRequest, vendor: UUID) -> HttpResponse:
    access = vendor_for_user(request, vendor, Capability.VENDOR_VIEW)
    context = {
        "access": access,
        "vendor": access.vendor,
        "counts": tenant_count_by_status(vendor=access.vendor),
        "recent_invitations": selectors.vendor_invitation_list(vendor=access.vendor, limit=5),
        "section": "dashboard",
    }
    return render(request, "vendors/dashboard.html", context)


@login_required
@require_http_methods(["GET"])
def members(request: AuthenticatedRequest, vendor: UUID) -> HttpResponse:
    access = vendor_for_user(request, vendor, Capability.VENDOR_VIEW)
    context = {
        "access": access,
        "vendor": access.vendor,
        "members": selectors.vendor_member_list(vendor=access.vendor),
        "role_form": RoleForm(),
        "section": "members",
    }
    return render(request, "vendors/members.html", context)


@login_required
@require_POST
def member_role(request: AuthenticatedRequest, vendor: UUID, user: UUID) -> HttpResponse:
    access = vendor_for_user(request, vendor, Capability.VENDOR_MANAGE_MEMBERS)
    membership = selectors.vendor_member_get(vendor=access.vendor, user_public_id=user)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
    else:
        try:
            services.vendor_member_role_change(
                actor=Actor.from_request(request),
                membership=membership,
                role=form.cleaned_data["role"],
            )
            messages.success(
                request, f"{membership.user.email} is now {membership.get_role_display()}."
            )
        except LastAdminError as exc:
            messages.error(request, str(exc))
    return redirect("vendors:members", vendor=vendor)


@login_required
@require_POST
def member_remove(request: AuthenticatedRequest, vendor: UUID, user: UUID) -> HttpResponse:
    access = vendor_for_user(request, vendor, Capability.VENDOR_MANAGE_MEMBERS)
    membership = selectors.vendor_member_get(vendor=access.vendor, user_public_id=user)
    try:
        services.vendor_member_remove(actor=Actor.from_request(request), membership=membership)
        messages.success(request, f"{membership.user.email} no longer has access.")
    except LastAdminError as exc:
        messages.error(request, str(exc))
    if membership.user_id == request.user.pk:
        return redirect("home")
    return redirect("vendors:members", vendor=vendor)


@login_required
@require_http_methods(["GET", "POST"])
def invite(request: AuthenticatedRequest, vendor: UUID) -> HttpResponse:
    access = vendor_for_user(request, vendor, Capability.VENDOR_MANAGE_MEMBERS)
    form = InviteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.vendor_invite(
            actor=Actor.from_request(request),
            vendor=access.vendor,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            invited_by=request.user,
        )
        messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
        return redirect("vendors:invitations", vendor=vendor)
    context = {"access": access, "vendor": access.vendor, "form": form, "section": "members"}
    return render(request, "vendors/invite.html", context)


@login_required
@require_http_methods(["GET"])
def invitations(request: AuthenticatedRequest, vendor: UUID) -> HttpResponse:
    access = vendor_for_user(request, vendor, Capability.VENDOR_VIEW)
    context = {
        "access": access,
        "vendor": access.vendor,
        "invitations": selectors.vendor_invitation_list(vendor=access.vendor),
        "section": "invitations",
    }
    return render(request, "vendors/invitations.html", context)


@login_required
@require_POST
def invitation_resend_view(
    request: AuthenticatedRequest, vendor: UUID, invitation: UUID
) -> HttpResponse:
    access = vendor_for_user(request, vendor, Capability.VENDOR_MANAGE_TENANTS)
    inv = selectors.vendor_invitation_get(vendor=access.vendor, public_id=invitation)
    try:
        invitation_resend(actor=Actor.from_request(request), invitation=inv)
        messages.success(
            request, f"A new invitation link was sent to {inv.email}; the old one no longer works."
        )
    except InvitationError as exc:
        messages.error(request, str(exc))
    return redirect("vendors:invitations", vendor=vendor)


@login_required
@require_POST
def invitation_revoke_view(
    request: AuthenticatedRequest, vendor: UUID, invitation: UUID
) -> HttpResponse:
    access = vendor_for_user(request, vendor, Capability.VENDOR_MANAGE_TENANTS)
    inv = selectors.vendor_invitation_get(vendor=access.vendor, public_id=invitation)
    try:
        invitation_revoke(actor=Actor.from_request(request), invitation=inv)
        messages.success(request, f"The invitation for {inv.email} was revoked.")
    except InvitationError as exc:
        messages.error(request, str(exc))
    return redirect("vendors:invitations", vendor=vendor)


@login_required
@require_http_methods(["GET", "POST"])
def settings_view(request: AuthenticatedRequest, vendor: UUID) -> HttpResponse:
    access = vendor_for_user(request, vendor, Capability.VENDOR_MANAGE_SETTINGS)
    initial = {"require_tenant_admin_mfa": access.vendor.require_tenant_admin_mfa}
    form = VendorSettingsForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.vendor_settings_update(
            actor=Actor.from_request(request),
            vendor=access.vendor,
            require_tenant_admin_mfa=form.cleaned_data["require_tenant_admin_mfa"],
        )
        messages.success(request, "Settings saved.")
        return redirect("vendors:settings", vendor=vendor)
    context = {"access": access, "vendor": access.vendor, "form": form, "section": "settings"}
    return render(request, "vendors/settings.html", context)
