"""The reporting endpoint every policy names, and the header that declares it.

Each CSP carries ``report-to csp`` (settings.CONTENT_SECURITY_POLICY) and, for engines without
the Reporting API, ``report-uri`` to the same URL; key pages' ``Integrity-Policy`` names
``endpoints=(csp)`` (keyring.pages). ``Reporting-Endpoints`` maps the group name to the URL.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

REPORT_GROUP = "csp"
POLICY_HEADERS = ("Content-Security-Policy", "Integrity-Policy")


def reporting_endpoints() -> str:
    """The ``Reporting-Endpoints`` value: a structured-field dictionary with one string member.

    The path is relative; browsers resolve it against the document's URL (same origin).
    """
    return f'{REPORT_GROUP}="{reverse("security:csp_report")}"'


class ReportingEndpointsMiddleware:
    """Adds ``Reporting-Endpoints`` to every response that carries a policy naming the group.

    Listed before ``CSPMiddleware`` so that it sees the response after the CSP was added.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if any(name in response for name in POLICY_HEADERS):
            response["Reporting-Endpoints"] = reporting_endpoints()
        return response
