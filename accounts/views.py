"""Accepting an invitation: the link from the e-mail lands here."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.models import Invitation, InvitationStatus
from accounts.types import AuthenticatedRequest

# Kept in the session so the link survives sign-up and e-mail verification (home resumes it).
PENDING_INVITATION_SESSION_KEY = "opencmk_pending_invitation"


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_get_by_token(token=token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    if invitation.status is not InvitationStatus.PENDING:
        context = {"invitation": invitation, "status": invitation.status}
        return render(request, "accounts/invitation_unavailable.html", context, status=410)
    if not request.user.is_authenticated:
        request.session[PENDING_INVITATION_SESSION_KEY] = token
        return render(request, "accounts/invitation_anonymous.html", _context(request, invitation))
    request.session.pop(PENDING_INVITATION_SESSION_KEY, None)
    if not services.user_has_verified_email(request.user, invitation.email):
        return render(
            request, "accounts/invitation_mismatch.html", _context(request, invitation), status=403
        )
    if request.method == "POST":
        return _accept(request, token)  # type: ignore[arg-type]  # authenticated above
    return render(request, "accounts/invitation_accept.html", _context(request, invitation))


def _accept(request: AuthenticatedRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_accept(token=token, user=request.user)
    except services.InvitationError as exc:
        messages.error(request, str(exc))
        return redirect("home")
    messages.success(request, f"Welcome to {invitation.organisation_name}.")
    if invitation.tenant is not None:
        return redirect("tenants:dashboard", tenant=invitation.tenant.public_id)
    return redirect("vendors:dashboard", vendor=invitation.vendor.public_id)


def _context(request: HttpRequest, invitation: Invitation) -> dict[str, object]:
    here = request.get_full_path()
    return {
        "invitation": invitation,
        "login_url": reverse("account_login") + "?next=" + here,
        "signup_url": reverse("account_signup") + "?next=" + here,
        "masked_email": _mask(invitation.email),
    }


def _mask(email: str) -> str:
    # Shown to whoever holds the link; enough to recognise the address, not to harvest it.
    local, _, domain = email.partition("@")
    return f"{local[:2]}{'•' * max(len(local) - 2, 1)}@{domain}"
