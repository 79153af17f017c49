"""The endpoint browsers post violation reports to (ACCEPTANCE H-03)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from audit.middleware import client_ip
from broker.security import csp_reports


# Open to everyone: browsers send reports without credentials or CSRF tokens, and the
# service treats every body as untrusted (size cap, rate limit, sanitised fields only).
@csrf_exempt
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    try:
        csp_reports.report_receive(
            ip=client_ip(request),
            content_type=request.content_type or "",
            content_length=request.META.get("CONTENT_LENGTH"),
            read=request.read,
            request_id=getattr(request, "request_id", ""),
        )
    except csp_reports.ReportError as exc:
        response = HttpResponse(status=exc.status)
        if exc.retry_after is not None:
            response["Retry-After"] = str(exc.retry_after)
        return response
    return HttpResponse(status=204)
