"""``manage.py seed_demo``: a demo vendor, tenant and users with known passwords (idempotent).

MFA: the demo users are NOT enrolled. They log in with e-mail and password only and can look
around at once; the first admin action (adding a tenant, inviting someone) asks them to enrol an
authenticator app or a passkey. Pre-enrolling TOTP would force everyone trying the demo to
type codes from a phone (or oathtool) at every login, before seeing anything.
"""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse

from accounts.models import User
from audit.actors import Actor
from tenants import services as tenant_services
from tenants.models import Tenant, TenantStatus
from vendors import services as vendor_services
from vendors.models import Vendor

VENDOR_NAME = "Acme SaaS"
USERS = {
    "vendor_admin": ("admin@acme.example", "acme-admin-demo"),
    "tenant_admin": ("admin@globex.example", "globex-admin-demo"),
    "tenant_viewer": ("viewer@globex.example", "globex-viewer-demo"),
}
# (tenant_id, name, status): globex is the one with users; the others fill the list.
TENANTS = [
    ("globex", "Globex Corporation", TenantStatus.ACCEPTED),
    ("initech", "Initech", TenantStatus.INVITED),
    ("umbrella-health", "Umbrella Health", TenantStatus.ROOT_KEY_APPROVED),
    ("hooli.eu", "Hooli Europe", TenantStatus.ACTIVE),
    ("stark_industries", "Stark Industries", TenantStatus.INVITED),
]


class Command(BaseCommand):
    help = "Create (or refresh) demo data: vendor 'Acme SaaS', tenant 'globex', three users."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Allow running outside the embedded set-up."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED and not options["force"]:
            raise CommandError("seed_demo creates users with published passwords; use --force.")
        with transaction.atomic():
            users = {role: _user(email, password) for role, (email, password) in USERS.items()}
            vendor = _vendor(users["vendor_admin"])
            tenants = [_tenant(vendor, *spec) for spec in TENANTS]
            _member(tenants[0], users["tenant_admin"], "admin")
            _member(tenants[0], users["tenant_viewer"], "viewer")
        self._print(vendor)
        # Demo KMS spine (kms_configs/demo.py): keys, demo-cluster, sealed Vault config, policy.
        from kms_configs import demo

        result = demo.demo_kms_seed(
            vendor=vendor,
            tenant=tenants[0],
            vendor_admin=users["vendor_admin"],
            tenant_admin=users["tenant_admin"],
        )
        demo.print_summary(result, self.stdout)  # type: ignore[arg-type]  # OutputWrapper writes like TextIO

    def _print(self, vendor: Vendor) -> None:
        out = self.stdout
        login_url = settings.SITE_URL + reverse("account_login")
        out.write(self.style.SUCCESS("Demo data ready."))
        out.write(f"\n  Open {login_url} and sign in as one of:\n")
        for label, role in (
            ("Vendor admin (Acme SaaS)", "vendor_admin"),
            ("Tenant admin (globex)", "tenant_admin"),
            ("Tenant viewer (globex)", "tenant_viewer"),
        ):
            email, password = USERS[role]
            out.write(f"    {label:<26} {email:<24} password: {password}\n")
        out.write(
            "\n  Two-factor authentication: the demo users have none yet, so signing in needs no\n"
            "  phone. Admins are asked to enrol an authenticator app (TOTP) or a passkey on their\n"
            "  first admin action, e.g. 'Add a tenant'. E-mails (invitations, verification) are\n"
            "  printed on this console.\n"
        )


def _user(email: str, password: str) -> User:
    user = User.objects.filter(email=email).first() or User.objects.create_user(email=email)
    user.set_password(password)  # re-running resets the published password
    user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def _vendor(admin: User) -> Vendor:
    vendor = Vendor.objects.filter(name=VENDOR_NAME, memberships__user=admin).first()
    if vendor is None:
        vendor = vendor_services.vendor_create(
            actor=Actor.system("seed_demo"), user=admin, name=VENDOR_NAME
        )
    return vendor


def _tenant(vendor: Vendor, tenant_id: str, name: str, status: str) -> Tenant:
    tenant = vendor.tenants.filter(tenant_id=tenant_id).first()
    if tenant is None:
        tenant = tenant_services.tenant_create(
            actor=Actor.system("seed_demo"),
            vendor=vendor,
            tenant_id=tenant_id,
            name=name,
            admin_email=None,
        )
        # Later stages (keys, policy) belong to later issues; demo rows only show the badges.
        vendor.tenants.filter(pk=tenant.pk).update(
            status=status, policy_version=3 if status == TenantStatus.ACTIVE else 0
        )
    return tenant


def _member(tenant: Tenant, user: User, role: str) -> None:
    if not tenant.memberships.filter(user=user).exists():
        tenant_services.tenant_member_add(
            actor=Actor.system("seed_demo"), tenant=tenant, user=user, role=role
        )
