"""Permission rows for the proxy sync API (docs/sync-protocol.md).

These URLs accept only requests signed with a registered proxy cluster's key: a browser
session of any persona, logged in or not, gets 401. POST behaviour (heartbeats, secrets) and
the signature checks themselves are tested in tests/kms_configs/test_proxy_auth.py.
"""

from __future__ import annotations

from tests.permissions.matrix import PUBLIC, Row

ROWS = [
    Row("proxy_api:bundles", org=PUBLIC, ok=401),
    Row("proxy_api:heartbeat", org=PUBLIC, ok=401),
    Row(
        "proxy_api:tenant_secrets",
        org=PUBLIC,
        ok=401,
        kwargs=lambda w: {"tenant_id": w.tenant.tenant_id},
    ),
]
