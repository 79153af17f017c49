"""Table-driven permission matrix over every URL (STYLE.md; ACCEPTANCE Z-01, Z-03, Z-06, H-02).

Rows come from every ``rows_*.py`` next to this file. A URL pattern without a row fails
``test_every_url_has_a_row``; allauth's own pages and static files are the only allow-list.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.broker.factories import login
from tests.permissions.matrix import LOGIN, PERSONAS, Row, build_world


def _collect_rows() -> list[Row]:
    rows: list[Row] = []
    for path in sorted(Path(__file__).parent.glob("rows_*.py")):
        module = importlib.import_module(f"tests.permissions.{path.stem}")
        rows.extend(Row.adapt(row) for row in module.ROWS)
    return rows


ROWS = _collect_rows()
# URL patterns that need no row: allauth's own views (tested by allauth and tests/accounts) and
# static file serving. Anything else, public or not, must be listed in a rows file.
ALLOWED_WITHOUT_ROW_MODULES = ("allauth.", "django.views.static", "django.contrib.staticfiles")


def _walk(
    patterns: list[Any], namespace: str = "", prefix: str = ""
) -> Iterator[tuple[str, str, str]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, ns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            callback = entry.callback
            module = getattr(callback, "__module__", "") or ""
            view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
            if view_class is not None:
                module = view_class.__module__
            name = f"{namespace}{entry.name}" if entry.name else ""
            yield name, prefix + str(entry.pattern), module


def _our_patterns() -> list[tuple[str, str, str]]:
    return [
        p
        for p in _walk(get_resolver().url_patterns)
        if not p[2].startswith(ALLOWED_WITHOUT_ROW_MODULES)
    ]


def test_every_url_has_a_row() -> None:
    listed = {row.name for row in ROWS}
    missing = [
        f"{name or '(unnamed)'} {route} ({module})"
        for name, route, module in _our_patterns()
        if name not in listed
    ]
    assert not missing, "URL patterns without a permission-matrix row:\n" + "\n".join(missing)


def test_no_row_names_a_url_that_does_not_exist() -> None:
    names = {name for name, _, _ in _walk(get_resolver().url_patterns)}
    assert not [row.name for row in ROWS if row.name not in names]


def test_no_url_exposes_an_integer_id() -> None:
    # ACCEPTANCE Z-06: public ids are UUIDs; sequential integers never appear in URLs.
    assert not [route for _, route, _ in _our_patterns() if "<int:" in route or "(?P<pk>" in route]


@pytest.fixture
def world(db: None) -> Any:
    return build_world()


def _client(world: Any, persona: str) -> Client:
    client = Client()
    if persona != "anonymous":
        login(client, world.users[persona])
    return client


def _request(client: Client, row: Row, world: Any, method: str | None = None) -> Any:
    url = row.path(world) if row.path else reverse(row.name, kwargs=row.kwargs(world))
    data = row.data(world) if row.data else {}
    if row.json or row.content_type:
        body, content_type = json.dumps(data), row.content_type or "application/json"
    else:
        body, content_type = urlencode(data), "application/x-www-form-urlencoded"
    return client.generic(method or row.method, url, data=body, content_type=content_type)


def _personas_for(row: Row) -> list[str]:
    # The row's own admin goes last: its request may succeed and change the world.
    own_admin = f"{row.org}_admin"
    return [p for p in PERSONAS if p != own_admin] + ([own_admin] if own_admin in PERSONAS else [])


def _check(row: Row, persona: str, response: Any) -> str | None:
    expected = row.expected(persona)
    got = response.status_code
    if expected == LOGIN:
        if got != 302 or not response["Location"].startswith(reverse("account_login")):
            return f"{persona}: expected login redirect, got {got} {response.get('Location', '')}"
        return None
    if got != expected:
        return f"{persona}: expected {expected}, got {got} {response.get('Location', '')}"
    if got == 302:
        for stage in ("account_login", "mfa_index", "account_reauthenticate"):
            if response["Location"].startswith(reverse(stage)):
                return f"{persona}: redirected to {stage} instead of succeeding"
    return None


def _admin_of(row: Row) -> str:
    return f"{row.org}_admin" if row.org in ("vendor", "tenant") else "outsider"


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_permission_matrix(row: Row, world: Any) -> None:
    """Every persona against one URL; one world per row keeps 8 personas x N rows fast."""
    problems = []
    if row.method == "POST":
        # H-02: no CSRF token → 403, before anything else can happen (exempt rows: as usual).
        csrf_client = Client(enforce_csrf_checks=True)
        login(csrf_client, world.users[_admin_of(row)])
        csrf_expected = row.ok_status() if row.csrf_exempt else 403
        if _request(csrf_client, row, world).status_code != csrf_expected:
            problems.append(f"POST without CSRF token was not answered with {csrf_expected}")
        # H-02: a mutation route has no GET side door (form pages answer GET with the form).
        if not any(r.name == row.name and r.method == "GET" for r in ROWS):
            got = _request(_client(world, _admin_of(row)), row, world, method="GET").status_code
            if got != 405:
                problems.append(f"GET on a POST-only route answered {got}, not 405")
    for persona in _personas_for(row):
        problem = _check(row, persona, _request(_client(world, persona), row, world))
        if problem:
            problems.append(problem)
    assert not problems, f"{row.id}:\n" + "\n".join(problems)
