"""Google Cloud Logging: `POST <endpoint>/v2/entries:write` with a service-account token.

Token: a self-signed RS256 JWT (iss = client_email, aud = token_uri, scope logging.write) is
exchanged at `token_uri` (grant type `urn:ietf:params:oauth:grant-type:jwt-bearer`) for an
access token, cached until a minute before expiry. Entries carry `jsonPayload` = the event and
`insertId` = its event_id, so Cloud Logging deduplicates a resent batch.
"""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tenant_security_proxy.events.sinks.base import (
    Fields,
    HttpSink,
    SinkConfigError,
    SinkDeliveryError,
)

PROVIDER = "gcp-cloud-logging"
SCOPE = "https://www.googleapis.com/auth/logging.write"
DEFAULT_ENDPOINT = "https://logging.googleapis.com"
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL, not a secret)
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_LOG_ID_RE = re.compile(r"[A-Za-z0-9/_.\-]{1,512}")
_PROJECT_RE = re.compile(r"[a-z][a-z0-9\-:.]{4,61}[a-z0-9]")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class GcpCloudLoggingSink(HttpSink):
    provider = PROVIDER

    def __init__(self, config: Mapping[str, Any]) -> None:
        f = Fields(
            PROVIDER,
            config,
            required={"project_id", "log_id", "client_email", "private_key"},
            optional={"private_key_id", "token_uri"},
        )
        project_id, log_id = f.text("project_id"), f.text("log_id")
        if not _PROJECT_RE.fullmatch(project_id):
            raise SinkConfigError(PROVIDER, "field 'project_id' is not a GCP project id")
        if not _LOG_ID_RE.fullmatch(log_id):
            raise SinkConfigError(PROVIDER, "field 'log_id' has characters a log id cannot have")
        self._log_name = f"projects/{project_id}/logs/{urllib.parse.quote(log_id, safe='')}"
        self._project_id = project_id
        base = f.url("endpoint", DEFAULT_ENDPOINT)
        self._write_url = base + "/v2/entries:write"
        self._token_uri = f.url("token_uri", DEFAULT_TOKEN_URI)
        self._client_email = f.text("client_email")
        self._key_id = f.opt_text("private_key_id")
        self._key = _load_key(f.text("private_key"))
        self._token: str | None = None
        self._token_expiry = 0.0
        super().__init__(f)

    def _assertion(self) -> str:
        now = int(time.time())
        header: dict[str, str] = {"alg": "RS256", "typ": "JWT"}
        if self._key_id:
            header["kid"] = self._key_id
        claims = {
            "iss": self._client_email,
            "scope": SCOPE,
            "aud": self._token_uri,
            "iat": now,
            "exp": now + 3600,
        }
        signing_input = ".".join(
            _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + _b64url(signature)

    async def _access_token(self) -> str:
        if self._token and time.time() < self._token_expiry:
            return self._token
        form = urllib.parse.urlencode({"grant_type": JWT_GRANT, "assertion": self._assertion()})
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        response = await self._post(self._token_uri, content=form.encode(), headers=headers)
        try:
            payload = response.json()
            token, expires_in = str(payload["access_token"]), float(payload.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise SinkDeliveryError(PROVIDER, "unreadable token response", retriable=True) from exc
        self._token, self._token_expiry = token, time.time() + max(expires_in - 60, 0)
        return token

    async def send(self, events: Sequence[Mapping[str, Any]]) -> int:
        body = {
            "logName": self._log_name,
            "resource": {"type": "global", "labels": {"project_id": self._project_id}},
            "entries": [_entry(e) for e in events],
        }
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str).encode()
        token = await self._access_token()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        try:
            await self._post(self._write_url, content=raw, headers=headers)
        except SinkDeliveryError as exc:
            if exc.reason == "HTTP 401":
                # Token revoked or expired early: fetch a new one on the next attempt.
                self._token = None
                raise SinkDeliveryError(PROVIDER, exc.reason, retriable=True) from exc
            raise
        return 0

    def __repr__(self) -> str:
        return f"<GcpCloudLoggingSink {self._log_name}>"


def _entry(event: Mapping[str, Any]) -> dict[str, Any]:
    failed = (
        isinstance(event.get("details"), Mapping) and event["details"].get("result") == "failure"
    )
    return {
        "insertId": str(event.get("event_id")),
        "timestamp": event.get("timestamp"),
        "severity": "WARNING" if failed else "NOTICE",
        "labels": {"tenant_id": str(event.get("tenant_id")), "event": str(event.get("event"))},
        "jsonPayload": dict(event),
    }


def _load_key(pem: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        # `from None`: the parser's message could quote part of the key.
        raise SinkConfigError(PROVIDER, "field 'private_key' is not a PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SinkConfigError(PROVIDER, "field 'private_key' must be an RSA key")
    return key
