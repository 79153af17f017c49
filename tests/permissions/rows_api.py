"""The vendor and tenant REST API, in two tables.

``ROWS`` (for test_matrix.py): browser sessions count for nothing on the API — every persona,
logged in or not, gets 401. Schema and docs pages are public.

``KEY_ROWS`` (for tests/api/test_key_matrix.py): every endpoint x method against each kind of
credential — own vendor key, other vendor's key, tenant key, other tenant's key, no key, and a
proxy cluster's request signature. A new endpoint without a row here fails
``test_every_api_operation_has_a_key_row``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.permissions.matrix import PUBLIC, Row

VENDOR_API, TENANT_API = "vendor", "tenant"


@dataclass(frozen=True)
class KeyRow:
    name: str
    method: str
    api: str  # which kind of key the endpoint is for
    kwargs: Callable[[Any], dict[str, Any]] = lambda w: {}
    body: Callable[[Any], Any] | None = None
    ok: int = 200
    # True when the URL names one of the owner's objects: another vendor's key gets 404 there,
    # while on collection routes it simply sees its own (different) data.
    object_route: bool = False
    expect: dict[str, int] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.name}:{self.method}"


def _t(w: Any) -> dict[str, Any]:
    return {"tenant": w.tenant.public_id}


def _inv(w: Any) -> dict[str, Any]:
    return {**_t(w), "invitation": w.tenant_admin_invitation.public_id}


def _cluster(w: Any) -> dict[str, Any]:
    return {"cluster": w.extra["cluster"].public_id}


KEY_ROWS = [
    KeyRow("api:vendor_tenants", "GET", VENDOR_API),
    KeyRow(
        "api:vendor_tenants",
        "POST",
        VENDOR_API,
        body=lambda w: {"tenant_id": "new-tenant", "name": "New"},
        ok=201,
    ),
    KeyRow(
        "api:vendor_tenants_bulk",
        "POST",
        VENDOR_API,
        body=lambda w: {"tenants": [{"tenant_id": "bulk-1", "name": "Bulk"}]},
        ok=201,
    ),
    KeyRow("api:vendor_tenant", "GET", VENDOR_API, _t, object_route=True),
    KeyRow(
        "api:vendor_tenant",
        "PATCH",
        VENDOR_API,
        _t,
        body=lambda w: {"name": "Renamed"},
        object_route=True,
    ),
    KeyRow("api:vendor_tenant", "DELETE", VENDOR_API, _t, ok=204, object_route=True),
    KeyRow("api:vendor_tenant_status", "GET", VENDOR_API, _t, object_route=True),
    KeyRow("api:vendor_invitations", "GET", VENDOR_API, _t, object_route=True),
    KeyRow(
        "api:vendor_invitations",
        "POST",
        VENDOR_API,
        _t,
        body=lambda w: {"email": "second-admin@tenant-a1.test"},
        ok=201,
        object_route=True,
    ),
    KeyRow("api:vendor_invitation_resend", "POST", VENDOR_API, _inv, object_route=True),
    KeyRow("api:vendor_invitation_revoke", "POST", VENDOR_API, _inv, object_route=True),
    KeyRow("api:vendor_clusters", "GET", VENDOR_API),
    KeyRow("api:vendor_cluster", "GET", VENDOR_API, _cluster, object_route=True),
    KeyRow("api:vendor_audit_events", "GET", VENDOR_API),
    KeyRow("api:tenant_status", "GET", TENANT_API),
    KeyRow("api:tenant_audit_events", "GET", TENANT_API),
    KeyRow("api:tenant_audit_checkpoints", "GET", TENANT_API),
]

_KEY_ROW_KWARGS = {row.name: row.kwargs for row in KEY_ROWS}

ROWS = [
    # Routes answer 401 to sessions before they look at the method, so GET covers each route.
    *(
        Row(name, org=PUBLIC, ok=401, kwargs=kwargs)
        for name, kwargs in _KEY_ROW_KWARGS.items()
        if name != "api:vendor_cluster"
    ),
    Row(
        "api:vendor_cluster",
        org=PUBLIC,
        ok=401,
        kwargs=lambda w: {"cluster": w.tenant.public_id},  # any UUID: auth comes first
    ),
    Row("api:not_found", org=PUBLIC, ok=404, kwargs=lambda w: {"rest": "vendor/no-such-thing"}),
    Row("api:schema", org=PUBLIC),
    Row("api:docs", org=PUBLIC),
]
