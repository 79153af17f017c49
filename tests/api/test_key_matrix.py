"""Every vendor/tenant API endpoint x every kind of credential (ACCEPTANCE K-04, Z-01, Z-03).

Expected: no credential or a proxy's request signature → 401; a key of the other kind → 403;
another vendor's key on one of this vendor's objects → 404 (never 403: no probing); a key on a
collection route of its own organisation → its own data only, never the subject's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse

from kms_configs import browser
from tests.api.conftest import make_key
from tests.kms_configs.conftest import signed_headers
from tests.permissions.matrix import World, build_world
from tests.permissions.rows_api import KEY_ROWS, TENANT_API, VENDOR_API, KeyRow

CREDENTIALS = ("none", "proxy", "tenant_key", "other_tenant_key", "other_vendor_key", "vendor_key")


@pytest.fixture
def world(db: None) -> World:
    w = build_world()
    admin = w.users["vendor_admin"]
    member = browser.user_keys(admin, "vendor admin key passphrase")
    root = browser.vendor_root_keys(w.vendor, admin, member)
    w.extra["cluster_keys"], w.extra["cluster"] = browser.cluster_register(
        w.vendor, admin, root, name="east"
    )
    w.extra["keys"] = {
        "vendor_key": make_key(w.vendor),
        "other_vendor_key": make_key(w.other_vendor),
        "tenant_key": make_key(w.vendor, w.tenant),
        "other_tenant_key": make_key(w.vendor, w.other_tenant),
    }
    return w


def expected(row: KeyRow, credential: str) -> int:
    if credential in row.expect:
        return row.expect[credential]
    if credential in ("none", "proxy"):
        return 401
    own = {VENDOR_API: ("vendor_key", "other_vendor_key"), TENANT_API: ("tenant_key",)}
    own[TENANT_API] += ("other_tenant_key",)
    if credential not in own[row.api]:
        return 403
    if credential.startswith("other_") and row.object_route:
        return 404
    return row.ok


def call(world: World, row: KeyRow, credential: str) -> Any:
    path = reverse(row.name, kwargs=row.kwargs(world))
    body = json.dumps(row.body(world)).encode() if row.body else b""
    headers: dict[str, str] = {}
    if credential == "proxy":
        cluster = world.extra["cluster"]
        headers = signed_headers(
            world.extra["cluster_keys"], cluster.cluster_id, row.method, path, body
        )
    elif credential != "none":
        headers = {"HTTP_AUTHORIZATION": f"Bearer {world.extra['keys'][credential]}"}
    return Client().generic(row.method, path, data=body, content_type="application/json", **headers)


@pytest.mark.parametrize("row", KEY_ROWS, ids=[row.id for row in KEY_ROWS])
def test_key_matrix(row: KeyRow, world: World) -> None:
    problems = []
    secret_ids = {str(world.tenant.public_id), str(world.tenant_admin_invitation.public_id)}
    for credential in CREDENTIALS:  # the owner's key last: its request may change the world
        response = call(world, row, credential)
        want = expected(row, credential)
        if response.status_code != want:
            problems.append(f"{credential}: expected {want}, got {response.status_code}")
        if response.status_code >= 400:
            body = response.json()
            if set(body) != {"error", "detail", "fields"}:
                problems.append(f"{credential}: error body not in the API error format: {body}")
        if credential.startswith("other_vendor") and response.status_code < 300:
            leaked = [s for s in secret_ids if s in response.content.decode()]
            if leaked:
                problems.append(f"{credential}: response reveals the other vendor's {leaked}")
    assert not problems, f"{row.id}:\n" + "\n".join(problems)


def _api_operations() -> set[tuple[str, str]]:
    resolver = get_resolver()
    ops = set()
    for name in ("api",):
        for entry in resolver.namespace_dict[name][1].url_patterns:
            assert isinstance(entry, URLPattern)
            view_class = getattr(entry.callback, "view_class", None)
            if entry.name in ("schema", "docs") or view_class is None:
                continue
            for method in ("get", "post", "patch", "put", "delete"):
                if hasattr(view_class, method):
                    ops.add((f"api:{entry.name}", method.upper()))
    return ops


def test_every_api_operation_has_a_key_row() -> None:
    listed = {(row.name, row.method) for row in KEY_ROWS}
    assert _api_operations() - listed == set()
    assert listed - _api_operations() == set()
