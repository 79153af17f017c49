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
    except (urllib.error.URLError, OSError):
        return 0, b""


def meta(tenant_id: str, **icl: Any) -> dict[str, Any]:
    return {"tenantId": tenant_id, "iclFields": {"requestingId": "alice"} | icl, "customFields": {}}


class RecordingHub:
    """Stands in for EventHub in unit tests: records what the proxy emits."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.logging: dict[str, Any] = {}

    def emit(self, tenant_id: str, event: dict[str, Any]) -> None:
        self.events.append((tenant_id, event))

    def configure_tenant(self, tenant_id: str, config: Any) -> None:
        self.logging[tenant_id] = config

    def remove_tenant(self, tenant_id: str) -> None:
        self.logging.pop(tenant_id, None)

    def stats(self) -> dict[str, Any]:
        return {}

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def named(self, name: str, tenant_id: str | None = None) -> list[dict[str, Any]]:
        return [e for t, e in self.events if e["event"] == name and tenant_id in (None, t)]


async def asgi_call(
    app: Any,
    method: str,
    path: str,
    body: Any = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> tuple[int, Any]:
    """Call an ASGI app in-process and decode its JSON answer."""
    raw = body if isinstance(body, bytes) else (b"" if body is None else json.dumps(body).encode())
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": headers or []}
    await app(scope, receive, send)
    status = sent[0]["status"]
    payload = b"".join(m.get("body", b"") for m in sent[1:])
    try:
        return status, json.loads(payload) if payload else None
    except ValueError:
        return status, payload
