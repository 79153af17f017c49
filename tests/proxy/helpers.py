"""Small HTTP helpers for the proxy tests (stdlib only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def post(
    url: str, route: str, body: Any, *, api_key: str | None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback test server
        f"{url}/api/1/{route}",
        data=data,
        method="POST",
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"cmk {api_key}"} if api_key else {})
        | (headers or {}),
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def meta(tenant_id: str, **icl: Any) -> dict[str, Any]:
    return {"tenantId": tenant_id, "iclFields": {"requestingId": "alice"} | icl, "customFields": {}}
