"""Portal pages to create, list and revoke API keys, for vendor admins and tenant admins.

Access goes through the organisation chokepoints with a *sensitive* capability, so admins need
MFA enrolled and a fresh re-authentication for every POST (create, revoke), as for members.
A new key is rendered in the POST's response only: it is never redirected to, stored in the
session or shown again (K-02).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import Capability
from apikeys import selectors, services
from apikeys.forms import ApiKeyCreateForm
from apikeys.models import KeyKind
from audit.actors import Actor
from tenants.access import tenant_for_user
from vendors.access import vendor_for_user


def _keys_page(
    request: HttpRequest, *, kind: str, vendor: Any, tenant: Any, context: dict[str, Any]
) -> HttpResponse:
    form = ApiKeyCreateForm(request.POST if request.method == "POST" else None, kind=kind)
    base = "vendors/base.html" if kind == KeyKind.VENDOR else "tenants/base.html"
    context = {**context, "base_template": base, "kind": kind}
    if request.method == "POST" and form.is_valid():
        try:
            key, secret = services.api_key_create(
                actor=Actor.from_request(request),
                vendor=vendor,
                tenant=tenant,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=form.cleaned_data["expires_on"],
                created_by=request.user,
            )
        except services.ApiKeyError as exc:
            form.add_error(None, str(exc))
        else:
            response = render(
                request, "apikeys/created.html", {**context, "key": key, "secret": secret}
            )
            response["Cache-Control"] = "no-store"
            return response
    keys = selectors.api_key_list(vendor=vendor, tenant=tenant)
    return render(request, "apikeys/keys.html", {**context, "form": form, "keys": keys})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def vendor_keys(request: HttpRequest, vendor: UUID) -> HttpResponse:
    access = vendor_for_user(request, vendor, Capability.VENDOR_MANAGE_SETTINGS)
    context = {"access": access, "vendor": access.vendor, "section": "api_keys"}
    return _keys_page(
        request, kind=KeyKind.VENDOR, vendor=access.vendor, tenant=None, context=context
    )


@login_required
@require_POST
def vendor_key_revoke(request: HttpRequest, vendor: UUID, key: UUID) -> HttpResponse:
    access = vendor_for_user(request, vendor, Capability.VENDOR_MANAGE_SETTINGS)
    row = selectors.api_key_get(vendor=access.vendor, tenant=None, public_id=key)
    services.api_key_revoke(actor=Actor.from_request(request), key=row)
    messages.success(request, f"The key {row.prefix}… was revoked; it no longer works.")
    return redirect("apikeys:vendor_keys", vendor=vendor)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def tenant_keys(request: HttpRequest, tenant: UUID) -> HttpResponse:
    access = tenant_for_user(request, tenant, Capability.TENANT_MANAGE_MEMBERS)
    context = {"access": access, "tenant": access.tenant, "section": "api_keys"}
    return _keys_page(
        request,
        kind=KeyKind.TENANT,
        vendor=access.tenant.vendor,
        tenant=access.tenant,
        context=context,
    )


@login_required
@require_POST
def tenant_key_revoke(request: HttpRequest, tenant: UUID, key: UUID) -> HttpResponse:
    access = tenant_for_user(request, tenant, Capability.TENANT_MANAGE_MEMBERS)
    row = selectors.api_key_get(vendor=access.tenant.vendor, tenant=access.tenant, public_id=key)
    services.api_key_revoke(actor=Actor.from_request(request), key=row)
    messages.success(request, f"The key {row.prefix}… was revoked; it no longer works.")
    return redirect("apikeys:tenant_keys", tenant=tenant)
