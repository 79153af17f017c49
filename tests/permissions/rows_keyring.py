"""Permission rows for every keyring URL (STYLE.md: adding a URL without a row fails a test).

``need`` is what the chokepoint requires: ``user`` (any logged-in user, own data only),
``view`` (a member of the organisation) or ``admin`` (an admin of it). ``org`` says which kind
of organisation the URL's ``public_id`` names. POST rows are JSON endpoints; an admin posting
``{}`` gets 400 (past the chokepoint, rejected by validation).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    org: str | None
    need: str
    extra: dict[str, str] = field(default_factory=dict)


_ROOT = {"root_id": "00000000-0000-4000-8000-000000000001"}
_CLUSTER = {"cluster_id": "00000000-0000-4000-8000-000000000002"}

ROWS = [
    Row("keyring:user_key", "GET", None, "user"),
    Row("keyring:api_user_key_create", "POST", None, "user"),
    Row("keyring:api_user_key_passphrase", "POST", None, "user"),
    Row("keyring:api_user_key_delete", "POST", None, "user"),
    Row("keyring:vendor_keys", "GET", "vendor", "view"),
    Row("keyring:clusters", "GET", "vendor", "view"),
    Row("keyring:approvals", "GET", "vendor", "admin"),
    Row("keyring:api_vendor_root", "POST", "vendor", "admin"),
    Row("keyring:api_vendor_share", "POST", "vendor", "admin"),
    Row("keyring:api_tenant_root_approve", "POST", "vendor", "admin", _ROOT),
    Row("keyring:api_cluster_register", "POST", "vendor", "admin"),
    Row("keyring:api_cluster_revoke", "POST", "vendor", "admin", _CLUSTER),
    Row("keyring:tenant_keys", "GET", "tenant", "view"),
    Row("keyring:api_tenant_root", "POST", "tenant", "admin"),
    Row("keyring:api_tenant_share", "POST", "tenant", "admin"),
]
