"""Checks every organisation chokepoint applies after membership: MFA, then re-authentication.

``vendors.access`` and ``tenants.access`` are the chokepoints; they call ``enforce_admin_policies``
once the user is known to be a member with the capability, so outsiders always see 404 first.
"""

from __future__ import annotations

from allauth.account.internal.flows.reauthentication import raise_if_reauthentication_required
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from accounts.roles import SENSITIVE, Capability, is_admin_action


class MFAEnrolmentRequiredError(ImmediateHttpResponse):
    """Raised by a chokepoint; allauth's AccountMiddleware turns it into the redirect it holds."""


def enforce_admin_policies(
    request: HttpRequest, *, capability: Capability, mfa_required: bool
) -> None:
    if mfa_required and is_admin_action(capability) and not is_mfa_enabled(request.user):
        raise MFAEnrolmentRequiredError(_redirect_to_mfa(request))
    # S-05: changes to who holds power need a recent password (or passkey) confirmation.
    # GETs only show forms, so the prompt comes with the POST, which allauth replays afterwards.
    if capability in SENSITIVE and request.method == "POST":
        raise_if_reauthentication_required(request, app="")


def _redirect_to_mfa(request: HttpRequest) -> HttpResponseRedirect:
    messages.warning(
        request,
        "Your organisation requires two-factor authentication for admins. "
        "Set up an authenticator app or a security key to continue.",
    )
    url = reverse("mfa_index") + "?" + urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(url)
