"""Audit pages of tenants and vendors: list with filters, export, checkpoint, notifications.

Thin views: access through the organisation chokepoints (``audit.scopes``), reads through
``audit.selectors``, writes through ``audit.services``. Every page view and download is itself
recorded in the organisation's chain.
"""

from __future__ import annotations

import json
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from audit import checkpoint as checkpoints
from audit import export
from audit.actors import Actor
from audit.forms import AuditFilterForm, CheckpointUploadForm
from audit.scopes import AuditScope, scope_for
from audit.selectors import latest_checkpoint, notification_enabled
from audit.services import notification_set, record, record_view

_FORMATS = {
    "jsonl": ("application/x-ndjson; charset=utf-8", export.jsonl_lines),
    "csv": ("text/csv; charset=utf-8", export.csv_lines),
}


def _interval() -> str:
    seconds = int(settings.OPENCMK_AUDIT_CHECKPOINT_SECONDS)
    return f"{seconds // 60} minutes" if seconds % 60 == 0 else f"{seconds} seconds"


def _back(scope: AuditScope) -> HttpResponse:
    return redirect(f"audit:{scope.kind}", org=scope.org.public_id)


@login_required
@require_GET
def log(request: HttpRequest, kind: str, org: UUID) -> HttpResponse:
    scope = scope_for(request, kind, org)
    form = AuditFilterForm(request.GET or None)
    filters = form.filters()
    with transaction.atomic():
        record_view(request, action="audit.viewed", **scope.record_kwargs(), data=filters.as_data())
    page = scope.page(filters, request.GET.get("cursor"))
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "access": scope.access,
        "scope": scope,
        kind: scope.org,
        "vendor": scope.vendor,
        "form": form,
        "page": page,
        "filter_query": query.urlencode(),
        "head": scope.head(),
        "published": latest_checkpoint(chain=scope.chain),
        "checkpoint_every": (_interval(), settings.OPENCMK_AUDIT_CHECKPOINT_EVENTS),
        "signer": checkpoints.public_key_b64(),
        "notifications_on": notification_enabled(
            user=request.user, vendor=scope.vendor, tenant=scope.tenant
        ),
        "upload_form": CheckpointUploadForm(),
        "section": "audit",
    }
    return render(request, f"audit/{kind}_log.html", context)


@login_required
@require_GET
def export_events(request: HttpRequest, kind: str, org: UUID, fmt: str) -> StreamingHttpResponse:
    if fmt not in _FORMATS:
        raise Http404
    scope = scope_for(request, kind, org, admin=True)
    filters = AuditFilterForm(request.GET or None).filters()
    with transaction.atomic():
        # Recorded before the first byte leaves: an export that cannot be audited does not start.
        record_view(
            request,
            action="audit.exported",
            **scope.record_kwargs(),
            data={"format": fmt, **filters.as_data()},
        )
    content_type, lines = _FORMATS[fmt]
    events = scope.events(filters)
    if scope.tenant is not None:
        events = events.order_by("seq")  # chain order, so the file verifies link by link
    response = StreamingHttpResponse(lines(events), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="audit-{scope.org.public_id}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def checkpoint_download(request: HttpRequest, kind: str, org: UUID) -> HttpResponse:
    scope = scope_for(request, kind, org)
    with transaction.atomic():
        # Recorded first, so the checkpoint covers its own download.
        record_view(request, action="audit.checkpoint_downloaded", **scope.record_kwargs())
        head = scope.head()
        if head is None:  # cannot happen: the record above created it
            raise Http404
        doc = checkpoints.checkpoint_for(head)
    response = HttpResponse(json.dumps(doc, indent=2) + "\n", content_type="application/json")
    name = f"audit-checkpoint-{scope.org.public_id}-{doc['seq']}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def checkpoint_published(request: HttpRequest, kind: str, org: UUID) -> HttpResponse:
    """The newest checkpoint the broker published of this chain (L-06), byte for byte."""
    scope = scope_for(request, kind, org)
    latest = latest_checkpoint(chain=scope.chain)
    if latest is None:
        messages.info(request, "No checkpoint of this log has been published yet.")
        return _back(scope)
    with transaction.atomic():
        record_view(
            request,
            action="audit.checkpoint_downloaded",
            **scope.record_kwargs(),
            data={"published_seq": latest.seq},
        )
    response = HttpResponse(latest.body, content_type="application/json")
    name = f"audit-checkpoint-{scope.org.public_id}-{latest.seq}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def checkpoint_verify(request: HttpRequest, kind: str, org: UUID) -> HttpResponse:
    scope = scope_for(request, kind, org)
    form = CheckpointUploadForm(request.POST, request.FILES)
    if form.is_valid():
        ok, result = checkpoints.check_upload(
            form.cleaned_data["checkpoint"], scope.head(), scope.chain
        )
    else:
        ok, result = False, " ".join(str(e) for errors in form.errors.values() for e in errors)
    outcome = "success" if ok else "failure"
    with transaction.atomic():
        record(
            action="audit.checkpoint_verified",
            actor=Actor.from_request(request),
            **scope.record_kwargs(),
            outcome=outcome,
            data={"result": result},
        )
    (messages.success if outcome == "success" else messages.error)(request, result)
    return _back(scope)


@login_required
@require_POST
def notifications(request: HttpRequest, kind: str, org: UUID) -> HttpResponse:
    scope = scope_for(request, kind, org, admin=True)
    enabled = request.POST.get("enabled") == "1"
    notification_set(
        actor=Actor.from_request(request),
        user=request.user,
        vendor=scope.vendor,
        tenant=scope.tenant,
        enabled=enabled,
    )
    messages.success(
        request,
        "You will get an e-mail about security-relevant events."
        if enabled
        else "Security e-mails are off.",
    )
    return _back(scope)
