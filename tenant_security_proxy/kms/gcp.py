"""Google Cloud KMS provider (`gcp-kms`) via google-cloud-kms over its REST transport.

Tenant binding: `additionalAuthenticatedData` = the tenant id (UTF-8) on encrypt and decrypt;
Cloud KMS refuses to decrypt with other AAD. Integrity: Google's client does not verify the
CRC32C fields itself, so we send `plaintextCrc32c`/`additionalAuthenticatedDataCrc32c` (KMS
checks them) and check `verified*Crc32c`, `ciphertextCrc32c` and `plaintextCrc32c` on the way
back, as https://cloud.google.com/kms/docs/data-integrity-guidelines asks.

Credentials are the service account's `client_email` and `private_key` (PEM), given either as
top-level config fields or inside `service_account` (the downloaded key JSON, as an object or
a string). They become `google.oauth2.service_account.Credentials`; the client library then
authenticates with self-signed JWTs or via `token_uri`. Tests use exactly this path against a
fake that verifies the JWT signatures (tests/fakes/gcp_kms.py).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from typing import Any

import google_crc32c
import requests
from google.api_core import exceptions as api_exceptions
from google.api_core.client_options import ClientOptions
from google.auth import exceptions as auth_exceptions

from tenant_security_proxy.kms.base import optional_str, require_str
from tenant_security_proxy.kms.classify import (
    KMS_ACCOUNT_ISSUE,
    KMS_AUTHORIZATION_FAILED,
    KmsError,
    config_invalid,
    from_http_status,
    operation_failed,
    unreachable,
)

NAME = "gcp-kms"
SCOPES = ("https://www.googleapis.com/auth/cloudkms",)
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret
_REST_PREFIX = re.compile(r"^[A-Z]+ https?://\S+: ")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
_ACCOUNT_REASONS = frozenset({"BILLING_DISABLED", "SERVICE_DISABLED", "ACCOUNT_STATE_INVALID"})


def crc32c(data: bytes) -> int:
    return int(google_crc32c.value(data))


def _resource_id(config: Mapping[str, Any], field: str) -> str:
    value = require_str(config, field, NAME)
    if not _ID.match(value):
        raise config_invalid(f"{NAME} config field '{field}' is not a valid resource id")
    return value


def _service_account(config: Mapping[str, Any]) -> dict[str, str]:
    source: Any = config.get("service_account", config)
    if isinstance(source, str):
        try:
            source = json.loads(source)
        except ValueError:
            raise config_invalid(f"{NAME} config field 'service_account' is not JSON") from None
    if not isinstance(source, Mapping):
        raise config_invalid(f"{NAME} config field 'service_account' must be a JSON object")
    return {
        "client_email": require_str(source, "client_email", NAME),
        "private_key": require_str(source, "private_key", NAME),
        "token_uri": optional_str(source, "token_uri", NAME) or DEFAULT_TOKEN_URI,
    }


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
        ids = [
            _resource_id(config, f)
            for f in ("project_id", "location_id", "key_ring_id", "crypto_key_id")
        ]
        self._key_name = "projects/{}/locations/{}/keyRings/{}/cryptoKeys/{}".format(*ids)
        self._account = _service_account(config)
        endpoint = optional_str(config, "endpoint", NAME)
        self._api_endpoint = endpoint.rstrip("/") if endpoint else None
        self.endpoint = self._api_endpoint or "https://cloudkms.googleapis.com"
        self._aad = tenant_id.encode()
        self._aad_crc = crc32c(self._aad)
        self._timeout = timeout_s
        # google-auth's requests sessions take their CA bundle from REQUESTS_CA_BUNDLE; a
        # per-client bundle would need private attributes, so `ca_file` is not used here.
        self._ca_file = ca_file
        self._lock = threading.Lock()
        self._client: Any = None

    def __repr__(self) -> str:
        return f"GcpKmsProvider(key={self._key_name!r})"

    def prepare(self) -> None:
        self._kms()

    def wrap(self, dek: bytes) -> bytes:
        from google.cloud import kms

        request = kms.EncryptRequest(
            name=self._key_name,
            plaintext=dek,
            plaintext_crc32c=crc32c(dek),
            additional_authenticated_data=self._aad,
            additional_authenticated_data_crc32c=self._aad_crc,
        )
        answer = self._kms().encrypt(request=request, retry=None, timeout=self._timeout)
        if not answer.verified_plaintext_crc32c:
            raise operation_failed("wrap", "Cloud KMS did not verify the plaintext checksum")
        if not answer.verified_additional_authenticated_data_crc32c:
            raise operation_failed("wrap", "Cloud KMS did not verify the AAD checksum")
        ciphertext = bytes(answer.ciphertext)
        if answer.ciphertext_crc32c != crc32c(ciphertext):
            raise operation_failed("wrap", "ciphertext checksum mismatch (corrupted in transit)")
        if not answer.name.startswith(self._key_name + "/"):
            raise operation_failed("wrap", "Cloud KMS answered for a different key")
        return ciphertext

    def unwrap(self, data: bytes) -> bytes:
        from google.cloud import kms

        request = kms.DecryptRequest(
            name=self._key_name,
            ciphertext=data,
            ciphertext_crc32c=crc32c(data),
            additional_authenticated_data=self._aad,
            additional_authenticated_data_crc32c=self._aad_crc,
        )
        answer = self._kms().decrypt(request=request, retry=None, timeout=self._timeout)
        plaintext = bytes(answer.plaintext)
        if answer.plaintext_crc32c != crc32c(plaintext):
            raise operation_failed("unwrap", "plaintext checksum mismatch (corrupted in transit)")
        return plaintext

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.transport.close()

    def _kms(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._build_client()
            return self._client

    def _build_client(self) -> Any:
        from google.cloud import kms
        from google.oauth2 import service_account

        try:
            credentials = service_account.Credentials.from_service_account_info(
                self._account, scopes=SCOPES
            )
        except (ValueError, KeyError):
            # The message may quote the key material; say which field, not what it holds.
            raise config_invalid(f"{NAME} 'private_key' is not a valid PEM private key") from None
        options = ClientOptions(api_endpoint=self._api_endpoint) if self._api_endpoint else None
        client = kms.KeyManagementServiceClient(
            transport="rest", credentials=credentials, client_options=options
        )
        # AuthorizedSession re-sends a request up to twice after a 401 (refreshing the token
        # each time). Retries belong to KmsClient alone (PR-06), and credentials are refreshed
        # before expiry anyway, so a 401 is final. No public knob exists for this.
        session = getattr(client.transport, "_session", None)
        if session is not None and hasattr(session, "_max_refresh_attempts"):
            session._max_refresh_attempts = 0
        return client

    def classify(self, exc: BaseException, operation: str) -> KmsError:
        if isinstance(exc, auth_exceptions.RefreshError):
            return KmsError(KMS_AUTHORIZATION_FAILED, "Google rejected the service account key")
        if isinstance(exc, auth_exceptions.TransportError):
            return unreachable("cannot reach Google's token endpoint", retryable=True)
        if isinstance(exc, api_exceptions.GoogleAPICallError):
            return _classify_api_error(exc, operation)
        if isinstance(exc, requests.Timeout):
            return unreachable(f"Cloud KMS timed out ({type(exc).__name__})", retryable=False)
        if isinstance(exc, requests.exceptions.SSLError):
            return unreachable("TLS handshake with Cloud KMS failed", retryable=False)
        if isinstance(exc, requests.ConnectionError):
            return unreachable(
                f"cannot connect to Cloud KMS ({type(exc).__name__})", retryable=True
            )
        if isinstance(exc, requests.RequestException | OSError):
            return unreachable(f"Cloud KMS transport error ({type(exc).__name__})", retryable=False)
        return operation_failed(operation, f"unexpected {type(exc).__name__}")


def _classify_api_error(exc: api_exceptions.GoogleAPICallError, operation: str) -> KmsError:
    reason = getattr(exc, "reason", None)
    status = int(exc.code or 0)
    if reason in _ACCOUNT_REASONS:
        return KmsError(KMS_ACCOUNT_ISSUE, f"Google Cloud project cannot use KMS ({reason})")
    if isinstance(exc, api_exceptions.FailedPrecondition):
        return config_invalid(f"Cloud KMS key not usable: {_detail(exc)}")
    return from_http_status(status, operation, f"Cloud KMS {status}: {_detail(exc)}")


def _detail(exc: api_exceptions.GoogleAPICallError) -> str:
    # The REST transport prefixes "POST <url>: "; the rest is Cloud KMS's error text (resource
    # names, never data). Keep it short.
    return _REST_PREFIX.sub("", str(exc.message or type(exc).__name__))[:300]
