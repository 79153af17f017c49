"""OpenAPI schema: every API route documented (F-01); docs page served by the broker (no CDN)."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.api.conftest import ApiClient

# The proxy sync API is request-signed plain Django (docs/sync-protocol.md documents it); the
# schema and docs pages describe the others.
NOT_IN_SCHEMA = ("/api/v1/proxy/", "/api/v1/schema/", "/api/v1/docs/")


def _routes(patterns: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found += _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.append(("/" + prefix + str(entry.pattern), entry.callback))
    return found


def _openapi_path(route: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def _schema(client: Client) -> dict[str, Any]:
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    schema: dict[str, Any] = response.json()
    return schema


def test_every_api_route_and_method_is_in_the_schema(db: None) -> None:
    paths = _schema(Client())["paths"]
    api_routes = [
        (route, callback)
        for route, callback in _routes(get_resolver().url_patterns)
        if route.startswith("/api/")
        and not route.startswith(NOT_IN_SCHEMA)
        and hasattr(callback, "view_class")  # not the JSON 404 catch-all
    ]
    assert len(api_routes) >= 12
    missing = []
    for route, callback in api_routes:
        documented = paths.get(_openapi_path(route), {})
        view = callback.view_class
        for method in ("get", "post", "put", "patch", "delete"):
            if hasattr(view, method) and method not in documented:
                missing.append(f"{method.upper()} {route}")
    assert not missing
    assert set(paths) == {_openapi_path(route) for route, _ in api_routes}


def test_every_operation_requires_a_key_and_documents_its_errors(db: None) -> None:
    schema = _schema(Client())
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert operation["security"] == [{"ApiKey": []}], (method, path)
            assert {"400", "401", "403", "404", "429"} <= set(operation["responses"])


def test_the_docs_page_loads_everything_from_the_broker_under_a_strict_csp(db: None) -> None:
    response = Client().get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") for s in sources), sources
    assert "<script>" not in html and " style=" not in html  # nothing inline
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        static = Client().get(asset)
        assert static.status_code == 200, asset
        static.close()  # whitenoise streams the file; close it (ResourceWarning is an error)


def test_the_schema_needs_no_key_but_the_api_does(db: None) -> None:
    assert ApiClient(None).get("/api/v1/schema/").status_code == 200
    assert ApiClient(None).get("/api/v1/vendor/tenants").status_code == 401
