"""Tenant pages the vendor sees: list, create, detail. Access goes through the vendor chokepoint."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.models import Invitation
from accounts.roles import Capability
from accounts.types import AuthenticatedRequest
from audit.actors import Actor
from audit.services import record_view
from kms_configs.selectors import tenant_proxy_status
from tenants import selectors, services
from tenants.forms import TenantCreateForm, TenantFilterForm
from vendors.access import vendor_for_user


@login_required
@require_http_methods(["GET"])
def tenant_list(request: AuthenticatedRequest, vendor: UUID) -> HttpResponse:
    access = vendor_for_user(request, vendor, Capability.VENDOR_VIEW)
    filters = TenantFilterForm(request.GET)
    search, status = "", ""
    if filters.is_valid():
        search, status = filters.cleaned_data["q"], filters.cleaned_data["status"]
    page = selectors.tenant_page(
        vendor=access.vendor,
        search=search,
        status=status,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    context = {
        "access": access,
        "vendor": access.vendor,
        "filters": filters,
        "search": search,
        "status": status,
        "page": page,
        "section": "tenants",
    }
    return render(request, "tenants/vendor_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def tenant_create(request: AuthenticatedRequest, vendor: UUID) -> HttpResponse:
    access = vendor_for_user(request, vendor, Capability.VENDOR_MANAGE_TENANTS)
    form = TenantCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            tenant = services.tenant_create(
                actor=Actor.from_request(request),
                vendor=access.vendor,
                tenant_id=form.cleaned_data["tenant_id"],
                name=form.cleaned_data["name"],
                admin_email=form.cleaned_data["admin_email"],
                invited_by=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                f"Tenant {tenant.tenant_id} created; "
                f"{form.cleaned_data['admin_email']} is invited.",
            )
            return redirect("tenants:vendor_detail", vendor=vendor, tenant=tenant.public_id)
    context = {"access": access, "vendor": access.vendor, "form": form, "section": "tenants"}
    return render(request, "tenants/vendor_create.html", context)


@login_required
@require_http_methods(["GET"])
def tenant_detail(request: AuthenticatedRequest, vendor: UUID, tenant: UUID) -> HttpResponse:
    access = vendor_for_user(request, vendor, Capability.VENDOR_VIEW)
    obj = selectors.tenant_get_for_vendor(vendor=access.vendor, public_id=tenant)
    # DESIGN.md §9: the tenant sees in its own chain every time its vendor looks at it.
    record_view(request, action="tenant.viewed", vendor=access.vendor, tenant=obj, target=obj)
    context = {
        "access": access,
        "vendor": access.vendor,
        "tenant": obj,
        "steps": selectors.tenant_status_steps(tenant=obj),
        "invitations": selectors.tenant_invitation_list(
            tenant=obj, issued_by=Invitation.Kind.VENDOR
        ),
        "admin_count": obj.memberships.filter(role="admin").count(),
        "proxy_status": tenant_proxy_status(tenant=obj),
        "section": "tenants",
    }
    return render(request, "tenants/vendor_detail.html", context)
