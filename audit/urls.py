"""Audit URLs, mounted at /audit/: one set for tenants, one for vendors."""

from __future__ import annotations

from django.urls import URLPattern, path

from audit import views

app_name = "audit"

urlpatterns: list[URLPattern] = []
for kind in ("tenant", "vendor"):
    org = "<uuid:org>"
    urlpatterns += [
        path(f"{kind}s/{org}/", views.log, {"kind": kind}, name=kind),
        path(
            f"{kind}s/{org}/export.<str:fmt>",
            views.export_events,
            {"kind": kind},
            name=f"{kind}_export",
        ),
        path(
            f"{kind}s/{org}/checkpoint/",
            views.checkpoint_download,
            {"kind": kind},
            name=f"{kind}_checkpoint",
        ),
        path(
            f"{kind}s/{org}/checkpoint/published/",
            views.checkpoint_published,
            {"kind": kind},
            name=f"{kind}_checkpoint_published",
        ),
        path(
            f"{kind}s/{org}/checkpoint/verify/",
            views.checkpoint_verify,
            {"kind": kind},
            name=f"{kind}_checkpoint_verify",
        ),
        path(
            f"{kind}s/{org}/notifications/",
            views.notifications,
            {"kind": kind},
            name=f"{kind}_notifications",
        ),
    ]
