"""The portal in a real browser (Debian chromium via Playwright), under the production CSP.

Vendor admin logs in with password + TOTP, sees the tenant list, creates a tenant; the invited
tenant admin signs up through the e-mailed link, verifies the address, accepts, and sees only
their own organisation. Screenshots land in /tmp/screens/ for a human look.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core import mail
from playwright.sync_api import Browser, Page

from tenants.models import Tenant
from tests.broker.factories import (
    PASSWORD,
    TenantFactory,
    UserFactory,
    VendorFactory,
    VendorMembershipFactory,
    enrol_totp,
)
from tests.browser import launch_chromium

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SCREENS = Path(os.environ.get("OPENCMK_SCREENS_DIR", "/tmp/screens"))  # noqa: S108 - for humans


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as instance:
        yield instance


def _new_page(browser: Browser, errors: list[str]) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page


def _totp(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, next(iter(yield_hotp_counters_from_time()))))


def _mail_link(pattern: str) -> str:
    for message in reversed(mail.outbox):
        match = re.search(pattern, message.body)
        if match:
            return match.group(1)
    raise AssertionError(f"no e-mail with {pattern}: {[m.subject for m in mail.outbox]}")


@pytest.mark.django_db(transaction=True)
def test_vendor_creates_tenant_and_invited_admin_joins(browser: Browser, live_server: Any) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    acme = VendorFactory(name="Acme SaaS")
    for tenant_id, name in [
        ("globex", "Globex Corporation"),
        ("hooli.eu", "Hooli Europe"),
        ("umbrella", "Umbrella Health"),
    ]:
        TenantFactory(vendor=acme, tenant_id=tenant_id, name=name)
    alice = UserFactory(email="alice@acme.test")
    VendorMembershipFactory(vendor=acme, user=alice, role="admin")
    secret = enrol_totp(alice)
    errors: list[str] = []
    base = live_server.url

    # Vendor admin: password, then the second factor.
    page = _new_page(browser, errors)
    page.goto(f"{base}/accounts/login/")
    page.screenshot(path=str(SCREENS / "login.png"))
    page.fill("input[name=login]", alice.email)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.screenshot(path=str(SCREENS / "mfa_authenticate.png"))
    page.fill("input[name=code]", _totp(secret))
    page.press("input[name=code]", "Enter")
    page.wait_for_url(re.compile(r"/vendors/[0-9a-f-]{36}/$"))
    page.click("nav.tabs >> text=Tenants")
    page.wait_for_selector("table.table")
    assert page.locator("table.table tbody tr").count() == 3
    page.screenshot(path=str(SCREENS / "vendor_tenant_list.png"), full_page=True)

    # Create a tenant; its admin is invited by e-mail.
    page.get_by_role("link", name="Add a tenant").click()
    page.fill("#id_tenant_id", "bad id!")
    page.fill("#id_name", "Initech")
    page.fill("#id_admin_email", "peter@initech.test")
    page.click("main button[type=submit]")
    assert page.locator("#id_tenant_id-errors").is_visible()
    assert page.get_attribute("#id_tenant_id", "aria-invalid") == "true"
    page.fill("#id_tenant_id", "initech")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Admin invitations")
    assert page.locator(".step--current").inner_text().startswith("Invited")
    page.screenshot(path=str(SCREENS / "vendor_tenant_detail.png"), full_page=True)
    invite_path = _mail_link(r"https?://[^/\s]+(/invitations/[A-Za-z0-9_-]+/)")

    # Invited admin: new account through the link, e-mail verification, then accept.
    peter = _new_page(browser, errors)
    peter.goto(base + invite_path)
    peter.wait_for_selector("text=Join Initech")
    peter.get_by_role("link", name="Create an account").click()
    peter.fill("input[name=email]", "peter@initech.test")
    peter.fill("input[name=password1]", "short")
    peter.fill("input[name=password2]", "short")
    peter.press("input[name=password2]", "Enter")
    peter.wait_for_selector(".errors")
    peter.screenshot(path=str(SCREENS / "signup_errors.png"), full_page=True)
    peter.fill("input[name=password1]", "peter's long passphrase")
    peter.fill("input[name=password2]", "peter's long passphrase")
    peter.press("input[name=password2]", "Enter")
    peter.wait_for_url(re.compile(r"/accounts/confirm-email/"))
    peter.goto(base + _mail_link(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+)"))
    peter.click("main button[type=submit]")
    peter.wait_for_url(re.compile(r"/accounts/login/"))
    peter.fill("input[name=login]", "peter@initech.test")
    peter.fill("input[name=password]", "peter's long passphrase")
    peter.press("input[name=password]", "Enter")
    peter.wait_for_selector("text=Accept invitation")
    peter.get_by_role("button", name="Accept invitation").click()
    peter.wait_for_url(re.compile(r"/tenants/[0-9a-f-]{36}/$"))
    assert peter.locator("h1.orgbar__name").inner_text() == "Initech"
    peter.screenshot(path=str(SCREENS / "tenant_dashboard.png"), full_page=True)

    # Each sees only their own organisation.
    peter.click(".org-switcher summary")
    assert peter.locator(".org-switcher .menu__name").all_inner_texts() == ["Initech"]
    vendor_url = page.url.split("/tenants/")[0] + "/"
    assert peter.goto(vendor_url.replace("/tenants/", "/")).status == 404
    globex = Tenant.objects.get(tenant_id="globex")
    assert peter.goto(f"{base}/tenants/{globex.public_id}/").status == 404
    initech = Tenant.objects.get(tenant_id="initech")
    assert page.goto(f"{base}/tenants/{initech.public_id}/").status == 404
    assert initech.status == "accepted"
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
