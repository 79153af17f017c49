"""Signed HTTP client for the broker's `/api/v1/proxy/…` endpoints (docs/sync-protocol.md §1).

Requests are rare (one poll every couple of seconds), so the standard library's blocking client
in a worker thread is enough and keeps the proxy's dependency set small.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import http.client
import json
import os
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import nacl.signing

DOMAIN = b"OpenCMK/1/proxy-request"


class BrokerUnavailableError(Exception):
    """The broker could not be reached or answered with an unexpected status."""


@dataclass(frozen=True)
class BrokerResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def signed_message(
    method: str, path: str, cluster_id: str, timestamp: str, nonce: str, body: bytes
) -> bytes:
    parts = [method.upper(), path, cluster_id, timestamp, nonce, hashlib.sha256(body).hexdigest()]
    return DOMAIN + b"\n" + "\n".join(parts).encode()


class BrokerClient:
    def __init__(
        self,
        base_url: str,
        *,
        cluster_id: str,
        signing_key: nacl.signing.SigningKey,
        ca_file: str | None = None,
        timeout_s: float = 30.0,  # a snapshot page of 500 tenants is a few MB
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.cluster_id = cluster_id
        self._signing_key = signing_key
        self._timeout = timeout_s
        self._ssl = (
            ssl.create_default_context(cafile=ca_file) if base_url.startswith("https") else None
        )
        self._base_path = urllib.parse.urlsplit(self.base_url).path

    def _headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), os.urandom(16).hex()
        message = signed_message(method, path, self.cluster_id, timestamp, nonce, body)
        signature = self._signing_key.sign(message).signature
        return {
            "X-OpenCMK-Cluster": self.cluster_id,
            "X-OpenCMK-Timestamp": timestamp,
            "X-OpenCMK-Nonce": nonce,
            "X-OpenCMK-Signature": base64.b64encode(signature).decode(),
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    def _send(
        self, method: str, path: str, body: bytes, extra: dict[str, str] | None
    ) -> BrokerResponse:
        headers = self._headers(method, self._base_path + path, body) | (extra or {})
        request = urllib.request.Request(  # noqa: S310 - URL scheme checked in config
            self.base_url + path,
            data=body if method != "GET" else None,
            headers=headers,
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout, context=self._ssl) as resp:  # noqa: S310
                return BrokerResponse(resp.status, dict(resp.headers.items()), resp.read())
        except urllib.error.HTTPError as exc:
            return BrokerResponse(exc.code, dict(exc.headers.items()), exc.read())
        except (urllib.error.URLError, OSError, TimeoutError, http.client.HTTPException) as exc:
            raise BrokerUnavailableError(f"broker unreachable: {type(exc).__name__}") from None

    async def request(
        self, method: str, path: str, payload: Any = None, headers: dict[str, str] | None = None
    ) -> BrokerResponse:
        body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
        return await asyncio.to_thread(self._send, method, path, body, headers)

    async def bundles(self, cursor: str | None, etag: str | None, limit: int) -> BrokerResponse:
        query = {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
        path = "/api/v1/proxy/bundles?" + urllib.parse.urlencode(query)
        return await self.request("GET", path, headers={"If-None-Match": etag} if etag else None)

    async def heartbeat(self, payload: dict[str, Any]) -> BrokerResponse:
        return await self.request("POST", "/api/v1/proxy/heartbeat", payload)

    def _secrets_path(self, tenant_id: str) -> str:
        return f"/api/v1/proxy/tenants/{urllib.parse.quote(tenant_id, safe='')}/secrets"

    async def list_secrets(self, tenant_id: str) -> BrokerResponse:
        return await self.request("GET", self._secrets_path(tenant_id))

    async def create_secret(self, tenant_id: str, record: dict[str, Any]) -> BrokerResponse:
        return await self.request("POST", self._secrets_path(tenant_id), record)
