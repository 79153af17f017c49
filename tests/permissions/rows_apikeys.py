"""Matrix rows for the API-key pages: admins only (MFA, re-authentication via chokepoints)."""

from __future__ import annotations

from typing import Any

from apikeys.models import ApiKey
from apikeys.services import api_key_create
from audit.actors import Actor
from tests.permissions.matrix import TENANT, VENDOR, Row, World


def _key(w: World, kind: str) -> ApiKey:
    """One live key of the row's organisation, made on first use within this world."""
    if kind not in w.extra:
        tenant = w.tenant if kind == TENANT else None
        w.extra[kind], _ = api_key_create(
            actor=Actor.system("matrix"), vendor=w.vendor, tenant=tenant, name="matrix"
        )
    key: ApiKey = w.extra[kind]
    return key


def _v(w: World) -> dict[str, Any]:
    return {"vendor": w.vendor.public_id}


def _t(w: World) -> dict[str, Any]:
    return {"tenant": w.tenant.public_id}


ROWS = [
    Row("apikeys:vendor_keys", org=VENDOR, kwargs=_v, viewer=False),
    Row(
        "apikeys:vendor_keys",
        org=VENDOR,
        kwargs=_v,
        method="POST",
        viewer=False,
        data=lambda w: {"name": "ci", "scopes": "tenants:read"},
        ok=200,  # the new key is shown in this response, never behind a redirect
    ),
    Row(
        "apikeys:vendor_key_revoke",
        org=VENDOR,
        method="POST",
        viewer=False,
        kwargs=lambda w: {**_v(w), "key": _key(w, VENDOR).public_id},
    ),
    Row("apikeys:tenant_keys", org=TENANT, kwargs=_t, viewer=False),
    Row(
        "apikeys:tenant_keys",
        org=TENANT,
        kwargs=_t,
        method="POST",
        viewer=False,
        data=lambda w: {"name": "siem", "scopes": "audit:read"},
        ok=200,
    ),
    Row(
        "apikeys:tenant_key_revoke",
        org=TENANT,
        method="POST",
        viewer=False,
        kwargs=lambda w: {**_t(w), "key": _key(w, TENANT).public_id},
    ),
]
