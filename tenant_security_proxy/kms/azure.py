"""Azure Key Vault provider (`azure-key-vault`) via azure-keyvault-keys, RSA-OAEP-256 key wrap.

Key versions: the current version of the key is looked up (`keys/get`, cached for
`key_refresh_s`, default 300 s, so rotations are picked up), and the version used is stored in
the opaque bytes next to the wrapped key — the same shape IronCore's proxy uses, a small
protobuf `{1: wrapped key, 2: key version}` — so unwrap always asks for that exact version,
even after the tenant has rotated the key.

Tenant binding: RSA-OAEP in Key Vault has no label/AAD, so the wrapped plaintext is
`tag || dek` with `tag = SHA-256("OpenCMK/1/azure-tenant\\n" + tenant id)[:16]`; unwrap refuses
a plaintext whose tag is not this tenant's (field 3 = 1 marks this format).

Wrap is done locally with the public key (the SDK does that when it can read the key), so the
tenant's Key Vault logs show the key reads and every unwrap; unwrap always runs in the vault.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
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

NAME = "azure-key-vault"

# azure-core logs every request and response (URL, headers) at INFO; per KMS call that would
# flood the proxy's JSON logs. Failures still reach the logs through KmsError.
logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)
_KEY_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")
_VERSION = re.compile(r"^[0-9A-Za-z]{1,64}$")
_TAG_LEN = 16
_BOUND_FORMAT = 1
_VERSION_CLIENTS = 8
# Challenge-resource checking only makes sense for Azure's own vault domains.
_AZURE_VAULT_SUFFIXES = (
    ".vault.azure.net",
    ".vault.azure.cn",
    ".vault.usgovcloudapi.net",
    ".vault.microsoftazure.de",
    ".managedhsm.azure.net",
)
_KNOWN_AUTHORITIES = frozenset(
    {"login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn"}
)


def binding_tag(tenant_id: str) -> bytes:
    return hashlib.sha256(b"OpenCMK/1/azure-tenant\n" + tenant_id.encode()).digest()[:_TAG_LEN]


# -- the opaque bytes: a three-field protobuf, written by hand (no schema to compile) ----------
def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def encode_envelope(wrapped: bytes, version: str) -> bytes:
    raw_version = version.encode()
    return (
        b"\x0a" + _varint(len(wrapped)) + wrapped
        + b"\x12" + _varint(len(raw_version)) + raw_version
        + b"\x18" + _varint(_BOUND_FORMAT)
    )  # fmt: skip


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if not byte & 0x80:
            return value, pos


def decode_envelope(data: bytes) -> tuple[bytes, str, int]:
    """(wrapped key, key version, format) or ValueError."""
    fields: dict[int, bytes | int] = {}
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            fields[number], pos = _read_varint(data, pos)
        elif wire == 2:
            length, pos = _read_varint(data, pos)
            if pos + length > len(data):
                raise ValueError("truncated field")
            fields[number], pos = data[pos : pos + length], pos + length
        else:
            raise ValueError("unsupported wire type")
    wrapped, version, fmt = fields.get(1), fields.get(2), fields.get(3, 0)
    if not isinstance(wrapped, bytes) or not isinstance(version, bytes) or not isinstance(fmt, int):
        raise ValueError("missing fields")
    return wrapped, version.decode("ascii"), fmt


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
        vault_url = require_str(config, "vault_url", NAME).rstrip("/")
        endpoint = optional_str(config, "endpoint", NAME)
        self.endpoint = (endpoint or vault_url).rstrip("/")
        if not self.endpoint.startswith("https://"):
            raise config_invalid(f"{NAME} config field 'vault_url' must be an https URL")
        self._key_name = require_str(config, "key_name", NAME)
        if not _KEY_NAME.match(self._key_name):
            raise config_invalid(f"{NAME} config field 'key_name' is not a valid key name")
        self._directory = require_str(config, "tenant_id", NAME)
        self._client_id = require_str(config, "client_id", NAME)
        self._client_secret = require_str(config, "client_secret", NAME)
        self._authority = optional_str(config, "authority", NAME)
        self._refresh_s = float(config.get("key_refresh_s", 300))
        self._tag = binding_tag(tenant_id)
        host = urlsplit(self.endpoint).hostname or ""
        self._transport: dict[str, Any] = {
            "retry_total": 0,  # KmsClient retries, once
            "connection_timeout": timeout_s,
            "read_timeout": timeout_s,
            "verify_challenge_resource": host.endswith(_AZURE_VAULT_SUFFIXES),
        }
        if ca_file:
            self._transport["connection_verify"] = ca_file
        self._lock = threading.Lock()
        self._credential: Any = None
        self._key_client: Any = None
        self._current: tuple[float, str, Any] | None = None
        self._by_version: OrderedDict[str, Any] = OrderedDict()

    def __repr__(self) -> str:
        return f"AzureKeyVaultProvider(vault={self.endpoint!r}, key={self._key_name!r})"

    def prepare(self) -> None:
        import azure.keyvault.keys.crypto  # noqa: F401 - import cost belongs to warm-up

        self._clients()

    def wrap(self, dek: bytes) -> bytes:
        from azure.keyvault.keys.crypto import KeyWrapAlgorithm

        version, crypto = self._current_version()
        result = crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, self._tag + dek)
        return encode_envelope(bytes(result.encrypted_key), version)

    def unwrap(self, data: bytes) -> bytes:
        from azure.keyvault.keys.crypto import KeyWrapAlgorithm

        try:
            wrapped, version, fmt = decode_envelope(data)
        except (ValueError, UnicodeDecodeError):
            raise operation_failed("unwrap", "not an Azure Key Vault wrapped key") from None
        if fmt != _BOUND_FORMAT or not _VERSION.match(version):
            raise operation_failed("unwrap", "not an OpenCMK Azure Key Vault wrapped key")
        result = self._for_version(version).unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped)
        plaintext = bytes(result.key)
        if len(plaintext) < _TAG_LEN or not hmac.compare_digest(plaintext[:_TAG_LEN], self._tag):
            raise operation_failed("unwrap", "key was wrapped for a different tenant")
        return plaintext[_TAG_LEN:]

    def close(self) -> None:
        with self._lock:
            clients = [c for c in (self._key_client, self._credential) if c is not None]
            clients += list(self._by_version.values())
            if self._current is not None:
                clients.append(self._current[2])
            self._key_client = self._credential = self._current = None
            self._by_version.clear()
        for client in clients:
            client.close()

    # -- clients ---------------------------------------------------------------------------
    def _clients(self) -> tuple[Any, Any]:
        from azure.identity import ClientSecretCredential
        from azure.keyvault.keys import KeyClient

        with self._lock:
            if self._key_client is None:
                identity: dict[str, Any] = {"retry_total": 0}
                if "connection_verify" in self._transport:
                    identity["connection_verify"] = self._transport["connection_verify"]
                if self._authority:
                    identity["authority"] = self._authority
                    # MSAL validates authorities against Microsoft's list; a sovereign or
                    # private authority the tenant signed for must skip that lookup.
                    known = urlsplit(self._authority).hostname or self._authority
                    identity["disable_instance_discovery"] = known not in _KNOWN_AUTHORITIES
                self._credential = ClientSecretCredential(
                    self._directory, self._client_id, self._client_secret, **identity
                )
                self._key_client = KeyClient(self.endpoint, self._credential, **self._transport)
            return self._credential, self._key_client

    def _current_version(self) -> tuple[str, Any]:
        from azure.keyvault.keys.crypto import CryptographyClient

        now = time.monotonic()
        with self._lock:
            current = self._current
        if current is not None and now - current[0] < self._refresh_s:
            return current[1], current[2]
        credential, key_client = self._clients()
        key = key_client.get_key(self._key_name)
        version = str(key.properties.version or "")
        if not _VERSION.match(version):
            raise operation_failed("wrap", "Key Vault returned a key without a version")
        crypto = CryptographyClient(key, credential, **self._transport)
        with self._lock:
            previous, self._current = self._current, (now, version, crypto)
        if previous is not None:
            previous[2].close()  # wraps locally with the public key: no request in flight
        return version, crypto

    def _for_version(self, version: str) -> Any:
        from azure.keyvault.keys.crypto import CryptographyClient

        with self._lock:
            crypto = self._by_version.get(version)
            if crypto is not None:
                self._by_version.move_to_end(version)
                return crypto
        credential, _ = self._clients()
        key_id = f"{self.endpoint}/keys/{self._key_name}/{version}"
        crypto = CryptographyClient(key_id, credential, **self._transport)
        with self._lock:
            self._by_version[version] = crypto
            while len(self._by_version) > _VERSION_CLIENTS:
                self._by_version.popitem(last=False)[1].close()
        return crypto

    # -- errors ----------------------------------------------------------------------------
    def classify(self, exc: BaseException, operation: str) -> KmsError:
        if isinstance(exc, ServiceRequestTimeoutError | ServiceResponseTimeoutError):
            return unreachable(f"Key Vault timed out ({type(exc).__name__})", retryable=False)
        if isinstance(exc, ServiceRequestError | ServiceResponseError):
            return unreachable(
                f"cannot connect to Key Vault ({type(exc).__name__})", retryable=True
            )
        if isinstance(exc, ClientAuthenticationError):
            if _caused_by(exc, ssl.SSLError):
                return unreachable("TLS verification with Entra ID failed", retryable=False)
            if _caused_by(exc, ServiceRequestError | ServiceResponseError | OSError):
                return unreachable("cannot reach Microsoft Entra ID", retryable=True)
            return KmsError(
                KMS_AUTHORIZATION_FAILED, f"Azure rejected the credentials: {_code(exc)}"
            )
        if isinstance(exc, ResourceNotFoundError):
            return config_invalid(f"Key Vault has no key '{self._key_name}' ({_code(exc)})")
        if isinstance(exc, HttpResponseError):
            status = int(exc.status_code or 0)
            return from_http_status(status, operation, f"Key Vault {status} {_code(exc)}")
        return operation_failed(operation, f"unexpected {type(exc).__name__}")


def _code(exc: HttpResponseError) -> str:
    # Key Vault's error code ("Forbidden", "Throttled", ...); the message is not echoed because
    # Entra ID messages can quote request parameters.
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    return str(code or exc.reason or type(exc).__name__)[:80]


def _caused_by(exc: BaseException, kind: Any) -> bool:
    """Whether the credential failure came from the network (azure-identity wraps it)."""
    seen: BaseException | None = exc
    for _ in range(8):
        seen = (seen.__cause__ or seen.__context__) if seen is not None else None
        if isinstance(seen, kind):
            return True
    return _caused_by_text(exc, kind)


def _caused_by_text(exc: BaseException, kind: Any) -> bool:
    # MSAL errors reach azure-identity as text only; TLS failures are recognisable by it.
    return kind is ssl.SSLError and "CERTIFICATE_VERIFY_FAILED" in str(exc)
