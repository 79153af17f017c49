"""Health port: /live, /ready, /health, /metrics, GET / and the seal switch (§6.3, P-03)."""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from tenant_security_proxy import __version__, metrics
from tenant_security_proxy.asgi import Receive, Scope, Send, lifespan
from tenant_security_proxy.state import ProxyState


class Sealable(Protocol):
    state: ProxyState
    shutting_down: bool

    async def seal(self, reason: str) -> None: ...

    def health_details(self) -> dict[str, Any]: ...


async def _send(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class HealthApp:
    def __init__(self, runtime: Sealable, api_keys: list[str]) -> None:
        self.runtime = runtime
        self._keys = [b"cmk " + k.encode() for k in api_keys]
        self._routes: dict[tuple[str, str], Callable[[Scope, Send], Awaitable[None]]] = {
            ("GET", "/"): self.index,
            ("GET", "/live"): self.live,
            ("GET", "/ready"): self.ready,
            ("GET", "/health"): self.health,
            ("GET", "/metrics"): self.metrics,
            ("POST", "/admin/seal"): self.seal,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        handler = self._routes.get((scope["method"], scope["path"]))
        if handler is None:
            await _send(send, 404, _json({"error": "not_found"}), b"application/json")
            return
        await handler(scope, send)

    async def index(self, scope: Scope, send: Send) -> None:
        await _send(
            send,
            200,
            _json(
                {
                    "service": "opencmk-tenant-security-proxy",
                    "port": "health",
                    "version": __version__,
                    "endpoints": ["/live", "/ready", "/health", "/metrics", "POST /admin/seal"],
                }
            ),
            b"application/json",
        )

    async def live(self, scope: Scope, send: Send) -> None:
        await _send(send, 200, _json({"status": "live"}), b"application/json")

    def _not_ready_reason(self) -> str | None:
        if self.runtime.shutting_down:
            return "shutting down"
        return self.runtime.state.unavailable_reason()

    async def ready(self, scope: Scope, send: Send) -> None:
        reason = self._not_ready_reason()
        if reason is None:
            await _send(send, 200, _json({"status": "ready"}), b"application/json")
        else:
            await _send(
                send, 503, _json({"status": "not_ready", "reason": reason}), b"application/json"
            )

    async def health(self, scope: Scope, send: Send) -> None:
        reason = self._not_ready_reason()
        body = {"status": "ok" if reason is None else "degraded", "reason": reason}
        body |= self.runtime.health_details()
        await _send(send, 200 if reason is None else 503, _json(body), b"application/json")

    async def metrics(self, scope: Scope, send: Send) -> None:
        await _send(send, 200, metrics.render(), metrics.CONTENT_TYPE.encode())

    async def seal(self, scope: Scope, send: Send) -> None:
        # Drops every decrypted config at once (P-03); only a restart with a fresh fetch recovers.
        values = [v for k, v in scope["headers"] if k == b"authorization"]
        ok = False
        if len(values) == 1:
            for key in self._keys:
                ok = hmac.compare_digest(values[0], key) or ok
        if not ok:
            await _send(
                send, 401, _json({"code": 101, "message": "Unauthorized."}), b"application/json"
            )
            return
        await self.runtime.seal("admin endpoint")
        await _send(send, 200, _json({"status": "sealed"}), b"application/json")
