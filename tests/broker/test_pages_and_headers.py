"""Every HTML page: strict CSP header, no inline script or style, assets served by the app."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
_STYLE_ATTR = re.compile(r"<[^>]+\sstyle=", re.I)


def _pages(acme: Any, globex: Any) -> list[str]:
    return [
        reverse("vendors:dashboard", kwargs={"vendor": acme.public_id}),
        reverse("tenants:vendor_list", kwargs={"vendor": acme.public_id}),
        reverse("tenants:vendor_create", kwargs={"vendor": acme.public_id}),
        reverse(
            "tenants:vendor_detail", kwargs={"vendor": acme.public_id, "tenant": globex.public_id}
        ),
        reverse("vendors:invitations", kwargs={"vendor": acme.public_id}),
        reverse("vendors:members", kwargs={"vendor": acme.public_id}),
        reverse("vendors:invite", kwargs={"vendor": acme.public_id}),
        reverse("vendors:settings", kwargs={"vendor": acme.public_id}),
        reverse("vendors:create"),
        reverse("mfa_index"),
        reverse("account_email"),
    ]


def test_portal_pages_carry_a_strict_csp_and_no_inline_code(
    alice_client: Client, acme: Any, globex: Any
) -> None:
    for url in _pages(acme, globex):
        response = alice_client.get(url)
        assert response.status_code == 200, url
        csp = response["Content-Security-Policy"]
        for directive in (
            "default-src 'none'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ):
            assert directive in csp, (url, directive)
        script_src = re.search(r"script-src ([^;]*)", csp).group(1)  # type: ignore[union-attr]
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
        html = response.content.decode()
        assert not _INLINE_SCRIPT.search(html), url
        assert not _STYLE_ATTR.search(html), url


def test_tenant_pages_and_allauth_pages_too(
    bob_client: Client, globex: Any, client: Client
) -> None:
    for c, url in [
        (bob_client, reverse("tenants:dashboard", kwargs={"tenant": globex.public_id})),
        (bob_client, reverse("tenants:members", kwargs={"tenant": globex.public_id})),
        (bob_client, reverse("tenants:invite", kwargs={"tenant": globex.public_id})),
        (client, reverse("account_login")),
        (client, reverse("account_signup")),
        (client, reverse("account_reset_password")),
    ]:
        response = c.get(url)
        html = response.content.decode()
        assert response.status_code == 200, url
        assert "/static/css/app.css" in html, url
        assert not _INLINE_SCRIPT.search(html), url


def test_stylesheet_and_images_are_served_by_the_app(client: Client) -> None:
    for path in ("/static/css/app.css", "/static/img/logo.svg"):
        response = client.get(path)
        assert response.status_code == 200, path
        b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_no_page_references_another_origin(alice_client: Client, acme: Any, globex: Any) -> None:
    for url in _pages(acme, globex):
        html = alice_client.get(url).content.decode()
        assert not re.search(r"(src|href)=\"(https?:)?//", html), url


def test_errors_render_in_the_layout(
    mallory_client: Client, acme: Any, carol_client: Client, globex: Any
) -> None:
    not_found = mallory_client.get(reverse("vendors:dashboard", kwargs={"vendor": acme.public_id}))
    forbidden = carol_client.get(reverse("tenants:invite", kwargs={"tenant": globex.public_id}))

    assert not_found.status_code == 404 and b"Page not found" in not_found.content
    assert forbidden.status_code == 403 and b"You cannot do this" in forbidden.content
