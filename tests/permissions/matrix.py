"""Framework of the permission matrix: the world every row runs against, and the personas.

Each app lists its URLs in ``tests/permissions/rows_<app>.py`` as ``ROWS: list[Row]``;
``test_matrix.py`` collects every such file and fails for any URL pattern without a row.

A row names the organisation kind its URL belongs to, and whether a viewer may use it:

    Row("tenants:vendor_list", org=VENDOR, kwargs=lambda w: {"vendor": w.vendor.public_id})
    Row("tenants:invite", org=TENANT, method="POST", viewer=False,
        kwargs=lambda w: {"tenant": w.tenant.public_id}, data=lambda w: {...})

From that the expected status for each persona follows (``expected``): logged out → login
redirect; anyone outside the organisation (other vendor's admin, another tenant's admin, the
owning vendor on tenant pages, the tenant on vendor pages) → 404; a viewer → 403 unless
``viewer=True``; the admin → ``ok`` (200 for GET, 302 for POST unless given). ``expect`` overrides
single personas for special pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from accounts import tokens
from accounts.models import Invitation
from tests.broker.factories import (
    TenantFactory,
    TenantMembershipFactory,
    UserFactory,
    VendorFactory,
    VendorMembershipFactory,
    enrol_totp,
)

VENDOR, TENANT, USER, PUBLIC = "vendor", "tenant", "user", "public"
LOGIN = "login"  # expected value meaning "302 to the login page"

PERSONAS = (
    "anonymous",
    "outsider",
    "other_vendor_admin",
    "other_tenant_admin",
    "vendor_admin",
    "vendor_viewer",
    "tenant_admin",
    "tenant_viewer",
)


@dataclass
class World:
    """Two vendors; vendor A has tenants A1 (the subject) and A2; invitations of each kind."""

    vendor: Any
    tenant: Any
    other_tenant: Any
    other_vendor: Any
    users: dict[str, Any]
    vendor_invitation: Invitation
    tenant_admin_invitation: Invitation
    tenant_member_invitation: Invitation
    other_tenant_invitation: Invitation
    accept_token: str
    extra: dict[str, Any] = field(default_factory=dict)


def build_world() -> World:
    vendor = VendorFactory(name="Vendor A")
    other_vendor = VendorFactory(name="Vendor B")
    tenant = TenantFactory(vendor=vendor, tenant_id="a1", name="Tenant A1")
    other_tenant = TenantFactory(vendor=vendor, tenant_id="a2", name="Tenant A2")
    users = {
        "outsider": UserFactory(email="outsider@example.test"),
        "other_vendor_admin": VendorMembershipFactory(vendor=other_vendor, role="admin").user,
        "other_tenant_admin": TenantMembershipFactory(tenant=other_tenant, role="admin").user,
        "vendor_admin": VendorMembershipFactory(vendor=vendor, role="admin").user,
        "vendor_viewer": VendorMembershipFactory(vendor=vendor, role="viewer").user,
        "tenant_admin": TenantMembershipFactory(tenant=tenant, role="admin").user,
        "tenant_viewer": TenantMembershipFactory(tenant=tenant, role="viewer").user,
    }
    for name, user in users.items():
        if name.endswith("_admin"):
            enrol_totp(user)
    token = tokens.new_token()

    def invitation(
        org_tenant: Any, issued_by: str, email: str, token_value: str | None = None
    ) -> Invitation:
        return Invitation.objects.create(
            kind="tenant" if org_tenant else "vendor",
            issued_by=issued_by,
            vendor=vendor,
            tenant=org_tenant,
            email=email,
            role="admin",
            token_hash=tokens.token_hash(token_value or tokens.new_token()),
            sent_at=_now(),
            expires_at=_now() + _days(7),
        )

    return World(
        vendor=vendor,
        tenant=tenant,
        other_tenant=other_tenant,
        other_vendor=other_vendor,
        users=users,
        vendor_invitation=invitation(None, "vendor", "new-admin@vendor-a.test", token),
        tenant_admin_invitation=invitation(tenant, "vendor", "first-admin@tenant-a1.test"),
        tenant_member_invitation=invitation(tenant, "tenant", "member@tenant-a1.test"),
        other_tenant_invitation=invitation(other_tenant, "tenant", "member@tenant-a2.test"),
        accept_token=token,
    )


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()


def _days(n: int) -> Any:
    from datetime import timedelta

    return timedelta(days=n)


@dataclass(frozen=True)
class Row:
    name: str
    org: str
    kwargs: Callable[[World], dict[str, Any]] = lambda w: {}
    method: str = "GET"
    viewer: bool = True
    data: Callable[[World], dict[str, Any]] | None = None
    ok: int | None = None
    expect: dict[str, int | str] = field(default_factory=dict)
    json: bool = False  # send ``data`` as a JSON body (API endpoints) instead of a form
    # Send ``data`` as JSON under this media type instead (endpoints browsers post to).
    content_type: str | None = None
    # Endpoints browsers post to without a session or token (CSP reports): no 403 without CSRF.
    csrf_exempt: bool = False
    # For patterns ``reverse`` cannot build (catch-all regexes): the literal path to request.
    path: Callable[[World], str] | None = None

    @classmethod
    def adapt(cls, row: Any) -> Row:
        """Accept rows written as ``(name, method, org, need, extra)`` (``rows_keyring.py``).

        ``need`` is "user", "view" or "admin"; the URL names the organisation as ``public_id``;
        POST rows are JSON endpoints where an admin posting ``{}`` gets 400.
        """
        if isinstance(row, cls):
            return row
        org = row.org or USER
        extra = dict(row.extra)

        def kwargs(w: World) -> dict[str, Any]:
            ids = {"vendor": w.vendor.public_id, "tenant": w.tenant.public_id}
            return {**({"public_id": ids[org]} if org in ids else {}), **extra}

        post = row.method == "POST"
        return cls(
            name=row.name,
            org=org,
            kwargs=kwargs,
            method=row.method,
            viewer=row.need != "admin",
            data=(lambda w: {}) if post else None,
            ok=400 if post else 200,
            json=post,
        )

    @property
    def id(self) -> str:
        return f"{self.name}:{self.method}"

    def ok_status(self) -> int:
        return self.ok if self.ok is not None else (200 if self.method == "GET" else 302)

    def expected(self, persona: str) -> int | str:
        if persona in self.expect:
            return self.expect[persona]
        if persona == "anonymous":
            return self.ok_status() if self.org == PUBLIC else LOGIN
        if self.org in (USER, PUBLIC):
            return self.ok_status()
        admin, viewer = f"{self.org}_admin", f"{self.org}_viewer"
        if persona == admin:
            return self.ok_status()
        if persona == viewer:
            return self.ok_status() if self.viewer else 403
        return 404
