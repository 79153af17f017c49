"""Every page's policy names the violation-report endpoint, and the policy stays strict (H-03/H-04).

"Every page" is every GET row of the permission matrix, fetched as the persona that may use it,
so a new page is covered as soon as it gets its (mandatory) matrix row.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.broker.factories import login
from tests.permissions.matrix import build_world
from tests.permissions.test_matrix import ROWS

pytestmark = pytest.mark.django_db

FORBIDDEN_IN_SCRIPT_SRC = {"'unsafe-eval'", "'unsafe-inline'", "*", "data:", "blob:"}


def parse_csp(header: str) -> dict[str, list[str]]:
    """Directive name → source list; a repeated directive would be ignored by browsers: refuse."""
    policy: dict[str, list[str]] = {}
    for directive in filter(None, (part.strip() for part in header.split(";"))):
        name, *values = directive.split()
        assert name not in policy, f"directive {name} twice"
        policy[name] = values
    return policy


def parse_reporting_endpoints(header: str) -> dict[str, str]:
    """The structured-field dictionary ``name="url", …`` (RFC 8941 strings, no escapes used)."""
    members = [m.strip() for m in header.split(",")]
    parsed = [re.fullmatch(r'([a-z*][a-z0-9_.*-]*)="([^"\\]*)"', m) for m in members]
    assert all(parsed), header
    return {m.group(1): m.group(2) for m in parsed if m}


def assert_reports_to_the_endpoint(response: Any, where: str) -> dict[str, list[str]]:
    """The CSP reports to group ``csp`` (and ``report-uri`` for older engines), which
    ``Reporting-Endpoints`` maps to the report URL; script-src stays strict."""
    endpoint = reverse("security:csp_report")
    csp = parse_csp(response["Content-Security-Policy"])
    assert csp["report-to"] == ["csp"], where
    assert csp["report-uri"] == [endpoint], where
    assert parse_reporting_endpoints(response["Reporting-Endpoints"]) == {"csp": endpoint}, where
    assert not FORBIDDEN_IN_SCRIPT_SRC & set(csp["script-src"]), where
    assert csp["default-src"] == ["'none'"] and csp["object-src"] == ["'none'"], where
    assert csp["base-uri"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"], where
    return csp


def _persona(row: Any) -> str:
    return f"{row.org}_admin" if row.org in ("vendor", "tenant") else "outsider"


def test_every_page_in_the_permission_matrix_reports_violations_to_the_endpoint() -> None:
    world = build_world()
    clients = {p: login(Client(), u) for p, u in world.users.items()}
    checked = 0
    for row in (r for r in ROWS if r.method == "GET" and r.ok_status() == 200):
        url = row.path(world) if row.path else reverse(row.name, kwargs=row.kwargs(world))
        response = clients[_persona(row)].get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue  # JSON endpoints and redirects; their policy is checked below
        assert_reports_to_the_endpoint(response, url)
        checked += 1
    assert checked >= 20, checked  # the walk itself found the pages


def test_json_answers_and_error_pages_carry_the_same_reporting(client: Client) -> None:
    for response in (
        client.get("/api/v1/vendor/tenants"),  # 401 JSON
        client.get("/no/such/page/"),  # 404 page
        client.post(reverse("security:csp_report")),  # the endpoint itself (415)
    ):
        assert_reports_to_the_endpoint(response, response.request["PATH_INFO"])


def test_key_pages_add_wasm_and_integrity_reporting_and_nothing_else(alice: Any, acme: Any) -> None:
    response = login(Client(), alice).get(reverse("keyring:user_key"))

    csp = assert_reports_to_the_endpoint(response, "keys")
    nonce = next(v for v in csp["script-src"] if v.startswith("'nonce-"))
    assert csp["script-src"] == ["'self'", nonce, "'wasm-unsafe-eval'"]
    assert csp["connect-src"] == ["'self'"] and csp["img-src"] == ["'self'"]
    assert csp["require-trusted-types-for"] == ["'script'"]
    assert response["Integrity-Policy"] == "blocked-destinations=(script), endpoints=(csp)"


def test_the_nonce_is_fresh_in_each_of_100_responses_and_matches_the_html(alice: Any) -> None:
    client = login(Client(), alice)
    nonces = set()
    for _ in range(100):
        response = client.get(reverse("keyring:user_key"))
        csp = parse_csp(response["Content-Security-Policy"])
        (nonce,) = [v for v in csp["script-src"] if v.startswith("'nonce-")]
        assert csp["style-src"] == ["'self'", nonce]
        value = nonce.removeprefix("'nonce-").removesuffix("'")
        assert len(value) >= 22  # 16 random bytes, base64
        assert f'nonce="{value}"' in response.content.decode()
        nonces.add(value)
    assert len(nonces) == 100
