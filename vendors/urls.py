from __future__ import annotations

from django.urls import path

from vendors import views

app_name = "vendors"

urlpatterns = [
    path("new/", views.create, name="create"),
    path("<uuid:vendor>/", views.dashboard, name="dashboard"),
    path("<uuid:vendor>/members/", views.members, name="members"),
    path("<uuid:vendor>/members/invite/", views.invite, name="invite"),
    path("<uuid:vendor>/members/<uuid:user>/role/", views.member_role, name="member_role"),
    path("<uuid:vendor>/members/<uuid:user>/remove/", views.member_remove, name="member_remove"),
    path("<uuid:vendor>/invitations/", views.invitations, name="invitations"),
    path(
        "<uuid:vendor>/invitations/<uuid:invitation>/resend/",
        views.invitation_resend_view,
        name="invitation_resend",
    ),
    path(
        "<uuid:vendor>/invitations/<uuid:invitation>/revoke/",
        views.invitation_revoke_view,
        name="invitation_revoke",
    ),
    path("<uuid:vendor>/settings/", views.settings_view, name="settings"),
]
