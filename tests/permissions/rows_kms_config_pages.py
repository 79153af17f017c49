"""Permission rows for the tenant KMS configuration pages and their JSON endpoints.

Tenant members (viewers too) see the configs and the policy history; only tenant admins post.
Vendor members (viewers too) see the per-tenant metadata overview.
An admin posting ``{}`` passes the chokepoint and is refused by validation with 400.
"""

from __future__ import annotations

from typing import Any

from tests.permissions.matrix import TENANT, VENDOR, Row, World


def _tenant(w: World) -> dict[str, Any]:
    return {"public_id": w.tenant.public_id}


def _api(name: str) -> Row:
    return Row(
        name,
        org=TENANT,
        kwargs=_tenant,
        method="POST",
        viewer=False,
        json=True,
        data=lambda w: {},
        ok=400,
    )


ROWS = [
    Row(
        "kms_configs_pages:vendor_overview",
        org=VENDOR,
        kwargs=lambda w: {"vendor": w.vendor.public_id},
    ),
    Row("kms_configs_pages:configs", org=TENANT, kwargs=_tenant),
    Row("kms_configs_pages:history", org=TENANT, kwargs=_tenant),
    _api("kms_configs_pages:api_config_id"),
    _api("kms_configs_pages:api_policy"),
]
