"""Matrix rows for the broker's own pages, accounts, vendors and tenants."""

from __future__ import annotations

from tests.permissions.matrix import PUBLIC, TENANT, USER, VENDOR, Row


def _v(w):  # type: ignore[no-untyped-def]
    return {"vendor": w.vendor.public_id}


def _t(w):  # type: ignore[no-untyped-def]
    return {"tenant": w.tenant.public_id}


ROWS = [
    # Browsers post violation reports without credentials: everybody gets the same 204.
    Row(
        "security:csp_report",
        org=PUBLIC,
        method="POST",
        content_type="application/csp-report",
        csrf_exempt=True,
        ok=204,
        data=lambda w: {
            "csp-report": {"document-uri": "http://testserver/", "blocked-uri": "eval"}
        },
    ),
    Row(
        "home",
        org=USER,
        expect={
            "vendor_admin": 302,
            "vendor_viewer": 302,
            "tenant_admin": 302,
            "tenant_viewer": 302,
            "other_vendor_admin": 302,
            "other_tenant_admin": 302,
        },
    ),
    Row("vendors:create", org=USER),
    Row("vendors:create", org=USER, method="POST", data=lambda w: {"name": "New vendor"}),
    Row(
        "accounts:invitation_accept",
        org=PUBLIC,
        kwargs=lambda w: {"token": w.accept_token},
        # Only the invited address may accept; everybody else is told it is not theirs.
        expect={
            p: 403
            for p in (
                "outsider",
                "other_vendor_admin",
                "other_tenant_admin",
                "vendor_admin",
                "vendor_viewer",
                "tenant_admin",
                "tenant_viewer",
            )
        },
    ),
    Row("vendors:dashboard", org=VENDOR, kwargs=_v),
    Row("vendors:members", org=VENDOR, kwargs=_v),
    Row("vendors:invite", org=VENDOR, kwargs=_v, viewer=False),
    Row(
        "vendors:invite",
        org=VENDOR,
        kwargs=_v,
        viewer=False,
        method="POST",
        data=lambda w: {"email": "x@example.test", "role": "admin"},
    ),
    Row(
        "vendors:member_role",
        org=VENDOR,
        method="POST",
        viewer=False,
        kwargs=lambda w: {"vendor": w.vendor.public_id, "user": w.users["vendor_viewer"].public_id},
        data=lambda w: {"role": "admin"},
    ),
    Row(
        "vendors:member_remove",
        org=VENDOR,
        method="POST",
        viewer=False,
        kwargs=lambda w: {"vendor": w.vendor.public_id, "user": w.users["vendor_viewer"].public_id},
    ),
    Row("vendors:invitations", org=VENDOR, kwargs=_v),
    Row(
        "vendors:invitation_resend",
        org=VENDOR,
        method="POST",
        viewer=False,
        kwargs=lambda w: {
            "vendor": w.vendor.public_id,
            "invitation": w.tenant_admin_invitation.public_id,
        },
    ),
    Row(
        "vendors:invitation_revoke",
        org=VENDOR,
        method="POST",
        viewer=False,
        kwargs=lambda w: {
            "vendor": w.vendor.public_id,
            "invitation": w.vendor_invitation.public_id,
        },
    ),
    Row("vendors:settings", org=VENDOR, kwargs=_v, viewer=False),
    Row(
        "vendors:settings",
        org=VENDOR,
        kwargs=_v,
        viewer=False,
        method="POST",
        data=lambda w: {"require_tenant_admin_mfa": "on"},
    ),
    Row("tenants:vendor_list", org=VENDOR, kwargs=_v),
    Row("tenants:vendor_create", org=VENDOR, kwargs=_v, viewer=False),
    Row(
        "tenants:vendor_create",
        org=VENDOR,
        kwargs=_v,
        viewer=False,
        method="POST",
        data=lambda w: {"tenant_id": "new-t", "name": "New", "admin_email": "n@example.test"},
    ),
    Row(
        "tenants:vendor_detail",
        org=VENDOR,
        kwargs=lambda w: {"vendor": w.vendor.public_id, "tenant": w.tenant.public_id},
    ),
    Row("tenants:dashboard", org=TENANT, kwargs=_t),
    Row("tenants:members", org=TENANT, kwargs=_t),
    Row("tenants:invite", org=TENANT, kwargs=_t, viewer=False),
    Row(
        "tenants:invite",
        org=TENANT,
        kwargs=_t,
        viewer=False,
        method="POST",
        data=lambda w: {"email": "y@example.test", "role": "viewer"},
    ),
    Row(
        "tenants:member_role",
        org=TENANT,
        method="POST",
        viewer=False,
        kwargs=lambda w: {"tenant": w.tenant.public_id, "user": w.users["tenant_viewer"].public_id},
        data=lambda w: {"role": "admin"},
    ),
    Row(
        "tenants:member_remove",
        org=TENANT,
        method="POST",
        viewer=False,
        kwargs=lambda w: {"tenant": w.tenant.public_id, "user": w.users["tenant_viewer"].public_id},
    ),
    Row(
        "tenants:invitation_resend",
        org=TENANT,
        method="POST",
        viewer=False,
        kwargs=lambda w: {
            "tenant": w.tenant.public_id,
            "invitation": w.tenant_member_invitation.public_id,
        },
    ),
    Row(
        "tenants:invitation_revoke",
        org=TENANT,
        method="POST",
        viewer=False,
        kwargs=lambda w: {
            "tenant": w.tenant.public_id,
            "invitation": w.tenant_member_invitation.public_id,
        },
    ),
]
