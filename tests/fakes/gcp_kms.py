"""A protocol-faithful fake of Google Cloud KMS's REST API v1 (encrypt/decrypt) and of Google's
OAuth 2.0 token endpoint (JWT-bearer grant used by service-account credentials).

What is faithful (checked against google-cloud-kms 3.18 REST transport and cloud.google.com docs):
- paths `POST /v1/projects/{p}/locations/{l}/keyRings/{r}/cryptoKeys/{k}:encrypt|:decrypt`,
  camelCase JSON bodies, bytes as base64, int64 CRC32C values as decimal strings;
- encrypt answers `name` (the primary *version*), `ciphertext`, `ciphertextCrc32c`,
  `verifiedPlaintextCrc32c`, `verifiedAdditionalAuthenticatedDataCrc32c`, `protectionLevel`;
  decrypt answers `plaintext`, `plaintextCrc32c`, `usedPrimary`, `protectionLevel`;
- request checksums are verified server-side (400 INVALID_ARGUMENT on mismatch), AAD is bound;
- errors are `{"error": {"code", "message", "status"}}` with the gRPC status names;
- Bearer tokens must come from the token endpoint, which verifies the RS256 JWT assertion
  signed with the service account's private key (`aud` = token URI), like oauth2.googleapis.com,
  and the KMS API also accepts AIP-4111 self-signed JWTs (RS256 by a registered service account,
  `scope` including cloudkms), which is what google-auth sends by default.

What is not: ciphertexts are a private format (real ones are opaque too), one process-wide
key store, no IAM beyond an explicit deny list.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import google_crc32c
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_KMS_SCOPE = "https://www.googleapis.com/auth/cloudkms"
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def crc32c(data: bytes) -> int:
    return google_crc32c.value(data)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class _CryptoKey:
    versions: list[bytes] = field(default_factory=list)
    primary: int = 1  # 1-based like GCP version ids


@dataclass
class _Fault:
    status: int
    message: str
    count: int


class GcpKmsFake:
    """In-memory GCP KMS + token endpoint on 127.0.0.1 (plain HTTP, like the REST emulators)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, _CryptoKey] = {}
        self._accounts: dict[str, rsa.RSAPublicKey] = {}
        self._tokens: dict[str, str] = {}  # access token -> client_email
        self._denied: set[tuple[str, str]] = set()  # (client_email, key name)
        self._faults: list[_Fault] = []
        self.delay_s = 0.0
        self.corrupt_checksums = False
        self.requests: list[tuple[str, str]] = []
        self._stop = threading.Event()
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> GcpKmsFake:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def token_uri(self) -> str:
        return f"{self.endpoint}/token"

    # -- test controls ---------------------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self._denied.clear()
            self.delay_s = 0.0
            self.corrupt_checksums = False
            self.requests.clear()

    def create_key(
        self, crypto_key_id: str, *, project: str = "p", location: str = "global", ring: str = "r"
    ) -> dict[str, str]:
        """Creates a symmetric key; returns the config location fields for it."""
        name = f"projects/{project}/locations/{location}/keyRings/{ring}/cryptoKeys/{crypto_key_id}"
        with self._lock:
            self._keys[name] = _CryptoKey(versions=[AESGCM.generate_key(bit_length=256)])
        return {
            "project_id": project,
            "location_id": location,
            "key_ring_id": ring,
            "crypto_key_id": crypto_key_id,
        }

    def rotate(self, name: str) -> None:
        with self._lock:
            key = self._keys[name]
            key.versions.append(AESGCM.generate_key(bit_length=256))
            key.primary = len(key.versions)

    def service_account(self, client_email: str = "proxy@p.iam.gserviceaccount.com") -> dict:
        """A service-account JSON (the fields our config takes) trusted by the token endpoint."""
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        with self._lock:
            self._accounts[client_email] = private.public_key()
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return {"client_email": client_email, "private_key": pem, "token_uri": self.token_uri}

    def deny(self, client_email: str, key_name: str) -> None:
        with self._lock:
            self._denied.add((client_email, key_name))

    def fail_next(self, status: int, message: str = "injected", count: int = 1) -> None:
        with self._lock:
            self._faults.append(_Fault(status, message, count))

    # -- request handling (called from the handler thread) ---------------------------------
    def _take_fault(self) -> _Fault | None:
        with self._lock:
            if not self._faults:
                return None
            fault = self._faults[0]
            fault.count -= 1
            if fault.count <= 0:
                self._faults.pop(0)
            return fault

    def _issue_token(self, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        grant = form.get("grant_type", [""])[0]
        if grant != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type", "error_description": grant}
        claims = self._verified_claims(form.get("assertion", [""])[0])
        if claims is None:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        if claims.get("aud") != self.token_uri:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: aud/exp"}
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = claims["iss"]
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def _verified_claims(self, assertion: str) -> dict[str, Any] | None:
        """Claims of a JWT signed (RS256) by a registered service account, else None."""
        try:
            head_b64, claims_b64, sig_b64 = assertion.split(".")
            claims = json.loads(_b64url_decode(claims_b64))
            with self._lock:
                public = self._accounts[claims["iss"]]
            public.verify(
                _b64url_decode(sig_b64),
                f"{head_b64}.{claims_b64}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (KeyError, ValueError, TypeError, InvalidSignature):
            return None
        if not isinstance(claims, dict) or claims.get("exp", 0) < time.time():
            return None
        return claims

    def _caller(self, authorization: str | None) -> str | None:
        if not authorization or not authorization.startswith("Bearer "):
            return None
        token = authorization[len("Bearer ") :]
        with self._lock:
            caller = self._tokens.get(token)
        if caller is not None:
            return caller
        # AIP-4111 self-signed JWT, what google-auth sends for service accounts with scopes.
        claims = self._verified_claims(token)
        if claims is None:
            return None
        scoped = _KMS_SCOPE in str(claims.get("scope", "")).split()
        if scoped or claims.get("aud") == "https://cloudkms.googleapis.com/":
            return str(claims["iss"])
        return None

    def _kms(self, caller: str, name: str, verb: str, body: dict) -> tuple[int, dict[str, Any]]:
        permission = "useToEncrypt" if verb == "encrypt" else "useToDecrypt"
        with self._lock:
            key = self._keys.get(name)
            denied = (caller, name) in self._denied
        if denied:
            message = (
                f"Permission 'cloudkms.cryptoKeyVersions.{permission}' denied on resource "
                f"'{name}' (or it may not exist)."
            )
            return _error(403, message)
        if key is None:
            return _error(404, f"{name} not found.")
        try:
            aad = base64.b64decode(body.get("additionalAuthenticatedData", ""))
            if verb == "encrypt":
                return self._encrypt(name, key, base64.b64decode(body["plaintext"]), aad, body)
            return self._decrypt(key, base64.b64decode(body["ciphertext"]), aad, body)
        except (KeyError, ValueError):
            return _error(400, "Invalid JSON payload received.")

    def _encrypt(
        self, name: str, key: _CryptoKey, plaintext: bytes, aad: bytes, body: dict
    ) -> tuple[int, dict[str, Any]]:
        if "plaintextCrc32c" in body and int(body["plaintextCrc32c"]) != crc32c(plaintext):
            return _error(400, "The checksum in field plaintext_crc32c did not match the data.")
        nonce = os.urandom(12)
        sealed = AESGCM(key.versions[key.primary - 1]).encrypt(nonce, plaintext, aad)
        ciphertext = b"\x0a" + struct.pack(">I", key.primary) + nonce + sealed
        checksum = crc32c(ciphertext) ^ (1 if self.corrupt_checksums else 0)
        return 200, {
            "name": f"{name}/cryptoKeyVersions/{key.primary}",
            "ciphertext": _b64(ciphertext),
            "ciphertextCrc32c": str(checksum),
            "verifiedPlaintextCrc32c": "plaintextCrc32c" in body,
            "verifiedAdditionalAuthenticatedDataCrc32c": (
                "additionalAuthenticatedDataCrc32c" in body
            ),
            "protectionLevel": 1,
        }

    def _decrypt(
        self, key: _CryptoKey, ciphertext: bytes, aad: bytes, body: dict
    ) -> tuple[int, dict[str, Any]]:
        if "ciphertextCrc32c" in body and int(body["ciphertextCrc32c"]) != crc32c(ciphertext):
            return _error(400, "The checksum in field ciphertext_crc32c did not match the data.")
        try:
            if ciphertext[:1] != b"\x0a" or len(ciphertext) < 1 + 4 + 12 + 16:
                raise ValueError
            (version,) = struct.unpack(">I", ciphertext[1:5])
            material = key.versions[version - 1]
            plaintext = AESGCM(material).decrypt(ciphertext[5:17], ciphertext[17:], aad)
        except (ValueError, IndexError, InvalidTag):
            return _error(400, "Decryption failed: the ciphertext is invalid.")
        checksum = crc32c(plaintext) ^ (1 if self.corrupt_checksums else 0)
        return 200, {
            "plaintext": _b64(plaintext),
            "plaintextCrc32c": str(checksum),
            "usedPrimary": version == key.primary,
            "protectionLevel": 1,
        }

    def handle(
        self, method: str, path: str, headers: Any, raw: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        self.requests.append((method, path))
        if self.delay_s:
            self._stop.wait(self.delay_s)
        route = urlsplit(path).path
        if method == "POST" and route == "/token":
            status, payload = self._issue_token(parse_qs(raw.decode()))
            return status, payload, {}
        fault = self._take_fault()
        if fault is not None:
            extra = {"Retry-After": "1"} if fault.status == 429 else {}
            return (*_error(fault.status, fault.message), extra)
        caller = self._caller(headers.get("Authorization"))
        if caller is None:
            message = "Request had invalid authentication credentials."
            return (
                *_error(401, message),
                {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
            )
        if method != "POST" or not route.startswith("/v1/") or ":" not in route:
            return (*_error(404, f"Method not found: {route}"), {})
        name, verb = route[len("/v1/") :].rsplit(":", 1)
        if verb not in ("encrypt", "decrypt"):
            return (*_error(404, f"Method not found: {verb}"), {})
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return (*_error(400, "Invalid JSON payload received."), {})
        return (*self._kms(caller, name, verb, body), {})


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out close the socket mid-response; that is expected here.
        pass


def _error(status: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {
        "error": {
            "code": status,
            "message": message,
            "status": _STATUS_NAMES.get(status, "UNKNOWN"),
        }
    }


def _handler_for(fake: GcpKmsFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = (
            True  # headers and body go out in two writes  # keep-alive, like Google's front ends
        )

        def do_POST(self) -> None:
            self._respond("POST")

        def do_GET(self) -> None:
            self._respond("GET")

        def _respond(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            status, payload, extra = fake.handle(method, self.path, self.headers, raw)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
