"""HashiCorp Vault / OpenBao Transit provider (`vault-transit`).

Tenant binding: the transit key must be *derived* (`derived=true`); every call sends
`context = base64(tenant id)`, so Vault derives a per-tenant key and a ciphertext made for one
tenant does not decrypt under another's context. Vault silently ignores `context` for a
non-derived key, so the key's `derived` flag is checked once (needs `read` on
`<mount>/keys/<key>`) before the first use — otherwise binding would be an illusion.

HTTP is plain urllib3 rather than hvac: three endpoints, exact control of timeouts and retries
(none: KmsClient retries), one pooled connection set per config (docs/kms-providers.md has
the measurement).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Mapping
from typing import Any

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from tenant_security_proxy.kms.base import optional_str, require_str
from tenant_security_proxy.kms.classify import (
    KMS_AUTHORIZATION_FAILED,
    KmsError,
    config_invalid,
    from_http_status,
    operation_failed,
    unreachable,
)

NAME = "vault-transit"
_SEGMENT = re.compile(r"^[A-Za-z0-9_.-]+$")
_TOKEN_RENEW_FRACTION = 0.8  # re-login before the AppRole token's TTL runs out


def _path_segments(value: str, field: str) -> str:
    # Mount and key name become URL path segments: refuse anything that could reach another
    # Vault API (e.g. "../sys/...") with the proxy's token.
    parts = value.strip("/").split("/")
    if not all(_SEGMENT.match(p) and p not in (".", "..") for p in parts):
        raise config_invalid(f"{NAME} config field '{field}' has characters not allowed in a path")
    return "/".join(parts)


class Provider:
    provider = NAME

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        tenant_id: str,
        timeout_s: float,
        ca_file: str | None = None,
    ) -> None:
        address = require_str(config, "address", NAME).rstrip("/")
        self.endpoint = (optional_str(config, "endpoint", NAME) or address).rstrip("/")
        if not self.endpoint.startswith(("http://", "https://")):
            raise config_invalid(f"{NAME} config field 'address' must be an http(s) URL")
        self._mount = _path_segments(optional_str(config, "mount", NAME) or "transit", "mount")
        self._key = _path_segments(require_str(config, "key_name", NAME), "key_name")
        self._namespace = optional_str(config, "namespace", NAME)
        self._auth_mount = _path_segments(
            optional_str(config, "auth_mount", NAME) or "approle", "auth_mount"
        )
        self._static_token = optional_str(config, "token", NAME)
        self._role_id = optional_str(config, "role_id", NAME)
        self._secret_id = optional_str(config, "secret_id", NAME)
        if not self._static_token:
            if not self._role_id and not self._secret_id:
                raise config_invalid(f"{NAME} config needs 'token' or 'role_id' and 'secret_id'")
            require_str(config, "role_id", NAME)
            require_str(config, "secret_id", NAME)
        self._context = base64.b64encode(tenant_id.encode()).decode()
        self._timeout = urllib3.Timeout(connect=timeout_s, read=timeout_s)
        self._ca_file = ca_file
        self._lock = threading.Lock()
        self._pool: urllib3.PoolManager | None = None
        self._token = self._static_token
        self._token_expires = float("inf")
        self._derived_checked = False

    def __repr__(self) -> str:
        return f"VaultTransitProvider(endpoint={self.endpoint!r}, key={self._key!r})"

    # -- operations ------------------------------------------------------------------------
    def prepare(self) -> None:
        self._http()

    def wrap(self, dek: bytes) -> bytes:
        self._ensure_derived_key()
        body = {"plaintext": base64.b64encode(dek).decode(), "context": self._context}
        data = self._call("wrap", "POST", f"{self._mount}/encrypt/{self._key}", body)
        ciphertext = data.get("ciphertext")
        if not isinstance(ciphertext, str) or not ciphertext.startswith("vault:v"):
            raise operation_failed("wrap", "Vault returned no ciphertext")
        return ciphertext.encode()

    def unwrap(self, data: bytes) -> bytes:
        try:
            ciphertext = data.decode("ascii")
        except UnicodeDecodeError:
            raise operation_failed("unwrap", "not a Vault transit ciphertext") from None
        if not ciphertext.startswith("vault:v"):
            raise operation_failed("unwrap", "not a Vault transit ciphertext")
        self._ensure_derived_key()
        body = {"ciphertext": ciphertext, "context": self._context}
        answer = self._call("unwrap", "POST", f"{self._mount}/decrypt/{self._key}", body)
        try:
            return base64.b64decode(answer["plaintext"], validate=True)
        except (KeyError, TypeError, ValueError):
            raise operation_failed("unwrap", "Vault returned no plaintext") from None

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.clear()
                self._pool = None

    def _ensure_derived_key(self) -> None:
        if self._derived_checked:
            return
        data = self._call("key check", "GET", f"{self._mount}/keys/{self._key}", None)
        if data.get("derived") is not True:
            raise config_invalid(
                f"transit key '{self._key}' is not derived; tenant binding needs a key created "
                "with derived=true"
            )
        self._derived_checked = True

    # -- HTTP ------------------------------------------------------------------------------
    def _http(self) -> urllib3.PoolManager:
        with self._lock:
            if self._pool is None:
                self._pool = urllib3.PoolManager(
                    num_pools=2,
                    maxsize=16,
                    timeout=self._timeout,
                    retries=False,
                    ca_certs=self._ca_file,
                )
            return self._pool

    def _send(
        self, method: str, path: str, body: dict[str, Any] | None, token: str | None
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["X-Vault-Token"] = token
        if self._namespace:
            headers["X-Vault-Namespace"] = self._namespace
        response = self._http().request(
            method,
            f"{self.endpoint}/v1/{path}",
            body=json.dumps(body).encode() if body is not None else None,
            headers=headers,
        )
        try:
            payload = json.loads(response.data) if response.data else {}
        except ValueError:
            payload = {}
        return response.status, payload if isinstance(payload, dict) else {}

    def _call(
        self, operation: str, method: str, path: str, body: dict[str, Any] | None
    ) -> dict[str, Any]:
        status, payload = self._send(method, path, body, self._current_token())
        if status == 403 and self._role_id:
            # The AppRole token may have expired or been revoked: log in again, once.
            self._invalidate_token()
            status, payload = self._send(method, path, body, self._current_token())
        if status == 200:
            data = payload.get("data")
            return data if isinstance(data, dict) else {}
        raise self._status_error(status, payload, operation, path)

    def _status_error(
        self, status: int, payload: dict[str, Any], operation: str, path: str
    ) -> KmsError:
        errors = payload.get("errors")
        detail = "; ".join(str(e) for e in errors)[:300] if isinstance(errors, list) else ""
        if status == 403:
            if not self._token_is_valid():
                return KmsError(KMS_AUTHORIZATION_FAILED, "Vault rejected the proxy's token")
            return config_invalid(f"Vault denied the proxy access to '{path}'")
        if status == 404 or (status == 400 and "key not found" in detail):
            return config_invalid(f"Vault has no '{path}' ({detail or 'not found'})")
        op = "wrap" if operation == "key check" else operation
        return from_http_status(status, op, f"Vault HTTP {status}: {detail}")

    def _token_is_valid(self) -> bool:
        # Vault answers 403 both for a bad token and for a missing policy; lookup-self (allowed
        # by the default policy) tells them apart.
        status, _ = self._send("GET", "auth/token/lookup-self", None, self._token)
        return status == 200

    # -- AppRole ---------------------------------------------------------------------------
    def _current_token(self) -> str | None:
        with self._lock:
            token, expires = self._token, self._token_expires
        if token and time.monotonic() < expires:
            return token
        return self._login()

    def _invalidate_token(self) -> None:
        with self._lock:
            self._token = None

    def _login(self) -> str:
        body = {"role_id": self._role_id, "secret_id": self._secret_id}
        status, payload = self._send("POST", f"auth/{self._auth_mount}/login", body, None)
        auth = payload.get("auth") if status == 200 else None
        if not isinstance(auth, dict) or not auth.get("client_token"):
            if status in (400, 401, 403):
                raise KmsError(KMS_AUTHORIZATION_FAILED, "Vault AppRole login was rejected")
            raise from_http_status(status, "wrap", f"Vault AppRole login failed (HTTP {status})")
        token = str(auth["client_token"])
        ttl = float(auth.get("lease_duration") or 0)
        with self._lock:
            self._token = token
            self._token_expires = (
                time.monotonic() + ttl * _TOKEN_RENEW_FRACTION if ttl else float("inf")
            )
        return token

    # -- errors ----------------------------------------------------------------------------
    def classify(self, exc: BaseException, operation: str) -> KmsError:
        if isinstance(exc, NewConnectionError | ProtocolError):
            return unreachable(f"cannot connect to Vault ({type(exc).__name__})", retryable=True)
        if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
            return unreachable(f"Vault timed out ({type(exc).__name__})", retryable=False)
        if isinstance(exc, SSLError):
            return unreachable("TLS handshake with Vault failed", retryable=False)
        if isinstance(exc, HTTPError | OSError):
            return unreachable(f"Vault transport error ({type(exc).__name__})", retryable=False)
        return operation_failed(operation, f"unexpected {type(exc).__name__}")
