"""Every keyring URL against logged-out, outsider, viewer and admin (rows_keyring.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from keyring.urls import urlpatterns
from tests.broker.factories import login
from tests.permissions.rows_keyring import ROWS, Row

pytestmark = pytest.mark.django_db


def _url(row: Row, vendor: Any, tenant: Any) -> str:
    kwargs = dict(row.extra)
    if row.org == "vendor":
        kwargs["public_id"] = str(vendor.public_id)
    elif row.org == "tenant":
        kwargs["public_id"] = str(tenant.public_id)
    return reverse(row.name, kwargs=kwargs)


def _call(client: Client, row: Row, url: str) -> int:
    if row.method == "GET":
        return client.get(url).status_code
    return client.post(url, data="{}", content_type="application/json").status_code


def test_every_keyring_url_has_a_permission_row() -> None:
    names = {f"keyring:{p.name}" for p in urlpatterns if isinstance(p, URLPattern)}
    assert names == {row.name for row in ROWS}


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.method} {r.name}")
def test_logged_out_visitors_are_sent_to_login(row: Row, acme: Any, globex: Any) -> None:
    response = (
        Client().get(_url(row, acme, globex))
        if row.method == "GET"
        else Client().post(_url(row, acme, globex), data="{}", content_type="application/json")
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.method} {r.name}")
def test_outsiders_get_404_for_organisation_urls(
    row: Row, acme: Any, globex: Any, mallory: Any
) -> None:
    expected = (200 if row.method == "GET" else 400) if row.org is None else 404
    assert _call(login(Client(), mallory), row, _url(row, acme, globex)) == expected


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.method} {r.name}")
def test_viewers_see_view_urls_and_get_403_for_admin_urls(
    row: Row, acme: Any, globex: Any, carol: Any, victor: Any
) -> None:
    viewer = victor if row.org == "vendor" else carol
    ok = 200 if row.method == "GET" else 400
    expected = 403 if row.need == "admin" else ok
    assert _call(login(Client(), viewer), row, _url(row, acme, globex)) == expected


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.method} {r.name}")
def test_admins_pass_every_chokepoint(
    row: Row, acme: Any, globex: Any, alice: Any, bob: Any
) -> None:
    admin = alice if row.org in ("vendor", None) else bob
    expected = 200 if row.method == "GET" else 400
    assert _call(login(Client(), admin), row, _url(row, acme, globex)) == expected


@pytest.mark.parametrize("row", [r for r in ROWS if r.method == "POST"], ids=lambda r: r.name)
def test_json_endpoints_require_the_csrf_token(
    row: Row, acme: Any, globex: Any, alice: Any, bob: Any
) -> None:
    admin = alice if row.org in ("vendor", None) else bob
    client = login(Client(enforce_csrf_checks=True), admin)
    assert _call(client, row, _url(row, acme, globex)) == 403
