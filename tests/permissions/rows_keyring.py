"""Permission rows for every keyring URL (pages and the JSON endpoints their modules post to).

Organisation URLs name the organisation as ``public_id``. JSON endpoints get an empty object
from the matrix: an admin passes the chokepoint and is refused by validation with 400.
"""

from __future__ import annotations

from typing import Any

from tests.permissions.matrix import TENANT, USER, VENDOR, Row, World

_ROOT_ID = "00000000-0000-4000-8000-000000000001"
_CLUSTER_ID = "00000000-0000-4000-8000-000000000002"


def _vendor(**extra: str) -> Any:
    return lambda w: {"public_id": w.vendor.public_id, **extra}


def _tenant(w: World) -> dict[str, Any]:
    return {"public_id": w.tenant.public_id}


def _api(name: str, org: str, kwargs: Any = lambda w: {}, ok: int = 400) -> Row:
    return Row(
        name,
        org=org,
        kwargs=kwargs,
        method="POST",
        viewer=False,
        json=True,
        data=lambda w: {},
        ok=ok,
    )


ROWS = [
    Row("keyring:user_key", org=USER),
    _api("keyring:api_user_key_create", USER),
    _api("keyring:api_user_key_passphrase", USER),
    _api("keyring:api_user_key_delete", USER),
    Row("keyring:vendor_keys", org=VENDOR, kwargs=_vendor()),
    Row("keyring:clusters", org=VENDOR, kwargs=_vendor()),
    Row("keyring:approvals", org=VENDOR, kwargs=_vendor(), viewer=False),
    _api("keyring:api_vendor_root", VENDOR, _vendor()),
    _api("keyring:api_vendor_share", VENDOR, _vendor()),
    # Past the chokepoint, an unknown object id answers 404 like everywhere else (Z-01).
    _api("keyring:api_tenant_root_approve", VENDOR, _vendor(root_id=_ROOT_ID), ok=404),
    _api("keyring:api_cluster_register", VENDOR, _vendor()),
    _api("keyring:api_cluster_revoke", VENDOR, _vendor(cluster_id=_CLUSTER_ID), ok=404),
    Row("keyring:tenant_keys", org=TENANT, kwargs=_tenant),
    _api("keyring:api_tenant_root", TENANT, _tenant),
    _api("keyring:api_tenant_share", TENANT, _tenant),
]
