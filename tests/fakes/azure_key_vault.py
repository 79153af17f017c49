"""A protocol-faithful fake of Azure Key Vault (keys API) and of Microsoft Entra ID's token
endpoint, over HTTPS with a throw-away CA (trustme), on 127.0.0.1.

Faithful to what azure-keyvault-keys 4.11 / azure-identity 1.27 need (environment-notes §4):
- any vault request without a Bearer token gets 401 with the
  `WWW-Authenticate: Bearer authorization="<authority>/<tenant>", resource="https://vault.azure.net"`
  challenge; the SDK then asks its credential for a token and retries;
- `GET /keys/{name}[/{version}]` returns a JSON Web Key bundle (`key.kid` carries the version,
  `kty`, `key_ops`, `n`, `e` base64url, `attributes`);
- `POST /keys/{name}/{version}/wrapkey|unwrapkey` with `{"alg", "value"}` (base64url) returns
  `{"kid", "value"}`; RSA-OAEP-256 only (what the proxy uses);
- errors are `{"error": {"code", "message"[, "innererror"]}}` (KeyNotFound, Forbidden, Throttled,
  BadParameter, Unauthorized) with their HTTP statuses, 429 with Retry-After;
- the Entra ID side answers MSAL's `/{tenant}/v2.0/.well-known/openid-configuration` and the
  client-credentials grant at `/{tenant}/oauth2/v2.0/token` (AADSTS7000215 on a bad secret).
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import trustme
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

_OAEP256 = padding.OAEP(
    mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None
)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


@dataclass
class _Key:
    versions: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)


@dataclass
class _Fault:
    status: int
    code: str
    message: str
    count: int


class AzureKeyVaultFake:
    """One vault plus one Entra ID tenant with one registered application (client id/secret)."""

    def __init__(self, tmp_dir: Path) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, _Key] = {}
        self._tokens: set[str] = set()
        self._faults: list[_Fault] = []
        self._denied: set[tuple[str, str]] = set()  # (operation, key name)
        self.delay_s = 0.0
        self.requests: list[tuple[str, str]] = []
        self.tenant_id = str(uuid.uuid4())
        self.client_id = str(uuid.uuid4())
        self.client_secret = secrets.token_urlsafe(24)
        self._stop = threading.Event()
        ca = trustme.CA()
        self.ca_file = str(tmp_dir / "azure-kv-fake-ca.pem")
        ca.cert_pem.write_to_path(self.ca_file)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self._server = _TlsServer(("127.0.0.1", 0), _handler_for(self), context)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> AzureKeyVaultFake:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def vault_url(self) -> str:
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @property
    def authority(self) -> str:
        """Stands in for https://login.microsoftonline.com (same host as the vault here)."""
        return self.vault_url

    def credentials(self) -> dict[str, str]:
        """The config fields of DESIGN.md §5 for the registered application."""
        return {
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }

    # -- test controls ---------------------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self._denied.clear()
            self.delay_s = 0.0
            self.requests.clear()

    def create_key(self, name: str) -> str:
        """Creates an RSA-2048 key, or a new version of it (rotation); returns the version."""
        version = uuid.uuid4().hex
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        with self._lock:
            key = self._keys.setdefault(name, _Key())
            key.versions[version] = private
            key.order.append(version)
            key.created[version] = int(time.time())
        return version

    rotate_key = create_key

    def deny(self, operation: str, key_name: str) -> None:
        """Removes a permission (`get`, `wrapKey`, `unwrapKey`) on one key."""
        with self._lock:
            self._denied.add((operation, key_name))

    def fail_next(self, status: int, code: str, message: str = "injected", count: int = 1) -> None:
        with self._lock:
            self._faults.append(_Fault(status, code, message, count))

    # -- Entra ID ---------------------------------------------------------------------------
    def _openid_configuration(self) -> dict[str, Any]:
        base = f"{self.authority}/{self.tenant_id}"
        return {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "issuer": f"{base}/v2.0",
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
        }

    def _token(self, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        client_id = form.get("client_id", [""])[0]
        client_secret = form.get("client_secret", [""])[0]
        if client_id != self.client_id or not secrets.compare_digest(
            client_secret, self.client_secret
        ):
            return 401, {
                "error": "invalid_client",
                "error_description": (
                    "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent "
                    "in the request is the client secret value, not the client secret ID."
                ),
                "error_codes": [7000215],
            }
        token = "eyJ0eXAiOiJKV1Qi.fake." + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens.add(token)
        return 200, {
            "token_type": "Bearer",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": token,
        }

    # -- vault ------------------------------------------------------------------------------
    def _challenge(self) -> dict[str, str]:
        return {
            "WWW-Authenticate": (
                f'Bearer authorization="https://login.microsoftonline.com/{self.tenant_id}", '
                'resource="https://vault.azure.net"'
            )
        }

    def _bundle(self, name: str, version: str, private: rsa.RSAPrivateKey) -> dict[str, Any]:
        numbers = private.public_key().public_numbers()
        return {
            "key": {
                "kid": f"{self.vault_url}/keys/{name}/{version}",
                "kty": "RSA",
                "key_ops": ["encrypt", "decrypt", "wrapKey", "unwrapKey"],
                "n": _b64url(_int_bytes(numbers.n)),
                "e": _b64url(_int_bytes(numbers.e)),
            },
            "attributes": {
                "enabled": True,
                "created": self._keys[name].created[version],
                "updated": self._keys[name].created[version],
                "recoveryLevel": "Recoverable+Purgeable",
                "recoverableDays": 90,
            },
        }

    def _vault(self, method: str, parts: list[str], body: dict) -> tuple[int, dict[str, Any]]:
        # parts: ["keys", name, version?, operation?]
        name = parts[1]
        version = parts[2] if len(parts) > 2 else ""
        operation = parts[3] if len(parts) > 3 else ""
        permission = {"": "get", "wrapkey": "wrapKey", "unwrapkey": "unwrapKey"}.get(operation)
        if permission is None or (method == "GET") != (operation == ""):
            return _error(400, "BadParameter", f"Unsupported operation {operation!r}.")
        with self._lock:
            key = self._keys.get(name)
            denied = (permission, name) in self._denied
        if denied:
            message = (
                f"The user, group or application 'appid={self.client_id}' does not have keys "
                f"{permission} permission on key vault 'fake;location=local'."
            )
            return _error(403, "Forbidden", message, inner="ForbiddenByPolicy")
        if key is None or (version and version not in key.versions):
            message = f"A key with (name/id) {name} was not found in this key vault."
            return _error(404, "KeyNotFound", message)
        version = version or key.order[-1]
        private = key.versions[version]
        kid = f"{self.vault_url}/keys/{name}/{version}"
        if operation == "":
            return 200, self._bundle(name, version, private)
        if body.get("alg") != "RSA-OAEP-256":
            return _error(400, "BadParameter", "Only RSA-OAEP-256 is supported by this fake.")
        value = _b64url_decode(str(body.get("value", "")))
        if operation == "wrapkey":
            return 200, {
                "kid": kid,
                "value": _b64url(private.public_key().encrypt(value, _OAEP256)),
            }
        try:
            return 200, {"kid": kid, "value": _b64url(private.decrypt(value, _OAEP256))}
        except ValueError:
            return _error(
                400, "BadParameter", "Bad Request: the ciphertext could not be unwrapped."
            )

    def _take_fault(self) -> _Fault | None:
        with self._lock:
            if not self._faults:
                return None
            fault = self._faults[0]
            fault.count -= 1
            if fault.count <= 0:
                self._faults.pop(0)
            return fault

    def handle(
        self, method: str, path: str, headers: Any, raw: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        self.requests.append((method, path))
        if self.delay_s:
            self._stop.wait(self.delay_s)
        route = urlsplit(path).path
        if route == f"/{self.tenant_id}/v2.0/.well-known/openid-configuration":
            return 200, self._openid_configuration(), {}
        if method == "POST" and route == f"/{self.tenant_id}/oauth2/v2.0/token":
            return (*self._token(parse_qs(raw.decode())), {})
        parts = [p for p in route.split("/") if p]
        if not parts or parts[0] != "keys" or len(parts) < 2:
            return (*_error(404, "NotFound", f"No route for {route}"), {})
        authorization = headers.get("Authorization") or ""
        if not authorization.startswith("Bearer "):
            return (
                *_error(401, "Unauthorized", "AKV10000: Request is missing a Bearer."),
                self._challenge(),
            )
        with self._lock:
            known = authorization[len("Bearer ") :] in self._tokens
        if not known:
            return (*_error(401, "Unauthorized", "AKV10032: Invalid issuer."), self._challenge())
        fault = self._take_fault()
        if fault is not None:
            extra = {"Retry-After": "1"} if fault.status == 429 else {}
            return (*_error(fault.status, fault.code, fault.message), extra)
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return (*_error(400, "BadParameter", "The request body is not valid JSON."), {})
        return (*self._vault(method, parts, body), {})


def _error(
    status: int, code: str, message: str, inner: str | None = None
) -> tuple[int, dict[str, Any]]:
    error: dict[str, Any] = {"code": code, "message": message}
    if inner:
        error["innererror"] = {"code": inner}
    return status, {"error": error}


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Any, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        # Handshake lazily in the handler thread so one slow client cannot block accept().
        sock, address = self.socket.accept()
        return self._context.wrap_socket(
            sock, server_side=True, do_handshake_on_connect=False
        ), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or reject the certificate drop the connection; expected here.
        pass


def _handler_for(fake: AzureKeyVaultFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes

        def do_GET(self) -> None:
            self._respond("GET")

        def do_POST(self) -> None:
            self._respond("POST")

        def _respond(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            status, payload, extra = fake.handle(method, self.path, self.headers, raw)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-ms-request-id", str(uuid.uuid4()))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
