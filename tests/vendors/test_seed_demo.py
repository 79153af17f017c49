from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from tenants.models import Tenant, TenantMembership
from vendors.models import Vendor, VendorMembership

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_is_idempotent_and_prints_how_to_log_in() -> None:
    first = _seed()
    second = _seed()

    assert Vendor.objects.filter(name="Acme SaaS").count() == 1
    assert Tenant.objects.filter(tenant_id="globex").count() == 1
    assert VendorMembership.objects.count() == 1
    assert TenantMembership.objects.count() == 2
    assert first == second
    for text in (
        "/accounts/login/",
        "admin@acme.example",
        "acme-admin-demo",
        "globex-viewer-demo",
        "enrol",
    ):
        assert text in first


def test_demo_vendor_admin_logs_in_and_sees_the_tenant_list(client: Client) -> None:
    _seed()

    login = client.post(
        reverse("account_login"), {"login": "admin@acme.example", "password": "acme-admin-demo"}
    )
    home = client.get(login["Location"], follow=True)

    assert home.status_code == 200
    tenants = client.get(
        reverse("tenants:vendor_list", kwargs={"vendor": Vendor.objects.get().public_id})
    )
    assert b"globex" in tenants.content
    assert tenants.context["page"].total == 5


def test_seed_demo_refuses_production_without_force(settings: object) -> None:
    settings.EMBEDDED = False  # type: ignore[attr-defined]

    with pytest.raises(CommandError):
        call_command("seed_demo", stdout=StringIO())
