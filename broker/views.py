"""The landing page after login: resume an invitation, go to the only organisation, or choose."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.selectors import organisation_list_for_user
from accounts.views import PENDING_INVITATION_SESSION_KEY


@login_required
@require_http_methods(["GET"])
def home(request: HttpRequest) -> HttpResponse:
    token = request.session.pop(PENDING_INVITATION_SESSION_KEY, None)
    if token:
        return redirect("accounts:invitation_accept", token=token)
    organisations = organisation_list_for_user(user=request.user)
    if len(organisations) == 1:
        return redirect(organisations[0].url)
    return render(request, "home.html", {"organisations": organisations})
