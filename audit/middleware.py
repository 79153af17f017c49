"""Attach a request id, client IP and user agent to every request (and its response).

Also turns an ``AuditWriteError`` into 503 Service Unavailable (fail closed, L-02).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit import context

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def client_ip(request: HttpRequest) -> str | None:
    # X-Forwarded-For is never trusted here: spoofed headers must not dodge rate limits.
    # Behind a load balancer, set the real address into REMOTE_ADDR at the server level.
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-Id", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else context.new_request_id()
        ctx = context.RequestContext(
            request_id=request_id,
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:512],
        )
        request.request_id = request_id  # type: ignore[attr-defined]
        token = context.activate(ctx)
        try:
            response = self.get_response(request)
        finally:
            context.deactivate(token)
        response["X-Request-Id"] = request_id
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # L-02: an action whose audit event could not be written was rolled back; say so.
        from audit.services import AuditWriteError

        if isinstance(exception, AuditWriteError):
            return HttpResponse(
                "The action could not be recorded in the audit log, so it was not carried out. "
                "Please try again later.",
                status=503,
                content_type="text/plain; charset=utf-8",
            )
        return None
