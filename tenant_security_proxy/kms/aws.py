"""AWS KMS provider (`aws-kms`) via botocore.

Tenant binding: every Encrypt and Decrypt carries `EncryptionContext={"tenantId": <tenant id>}`;
KMS refuses to decrypt under any other context (InvalidCiphertextException), and the context is
written to the tenant's CloudTrail with every call. Decrypt also names the key (`KeyId`), so a
ciphertext of another key is refused (IncorrectKeyException).

The client is built once per config, on first use (a botocore client costs ~16 ms with the shared
model loader, ~110 ms without). botocore's own retries are off: KmsClient retries, once.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.credentials import DeferredRefreshableCredentials
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
    SSLError,
)
from botocore.loaders import Loader, create_loader

from tenant_security_proxy.kms.base import optional_str, require_str
from tenant_security_proxy.kms.classify import (
    KMS_ACCOUNT_ISSUE,
    KMS_AUTHORIZATION_FAILED,
    KMS_THROTTLED,
    KmsError,
    config_invalid,
    operation_failed,
    unreachable,
)

NAME = "aws-kms"
_ARN = re.compile(r"^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:(key|alias)/.+$")
_ASSUME_ROLE_SECONDS = 3600

_AUTH_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "IncompleteSignature",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "MissingAuthenticationToken",
    }
)
_CONFIG_CODES = frozenset(
    {
        "AccessDeniedException",
        "NotFoundException",
        "DisabledException",
        "KMSInvalidStateException",
        "InvalidKeyUsageException",
        "InvalidArnException",
        "ValidationException",
    }
)
_THROTTLE_CODES = frozenset(
    {"ThrottlingException", "Throttling", "LimitExceededException", "RequestLimitExceeded"}
)
_UNAVAILABLE_CODES = frozenset(
    {"KMSInternalException", "DependencyTimeoutException", "KeyUnavailableException"}
)
_ACCOUNT_CODES = frozenset(
    {"SubscriptionRequiredException", "OptInRequired", "RegionDisabledException"}
)
_DATA_CODES = frozenset({"InvalidCiphertextException", "IncorrectKeyException"})


@cache
def _shared_loader() -> Loader:
    # Service models are parsed once per process, not once per tenant config.
    return create_loader()


class _AssumeRoleError(Exception):
    """STS refused to let the proxy assume the tenant's role (carries the STS error code)."""


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
        self._key_id, self._region = _key_and_region(config)
        self._access_key_id = require_str(config, "access_key_id", NAME)
        self._secret_access_key = require_str(config, "secret_access_key", NAME)
        self._role_arn = optional_str(config, "role_arn", NAME)
        self._external_id = optional_str(config, "external_id", NAME)
        if self._external_id and not self._role_arn:
            raise config_invalid(f"{NAME} config has 'external_id' but is missing 'role_arn'")
        self._endpoint_url = optional_str(config, "endpoint", NAME)
        self._sts_endpoint_url = optional_str(config, "sts_endpoint", NAME)
        self.endpoint = self._endpoint_url or f"https://kms.{self._region}.amazonaws.com"
        self._context = {"tenantId": tenant_id}
        self._botocore_config = Config(
            connect_timeout=timeout_s,
            read_timeout=timeout_s,
            retries={"total_max_attempts": 1, "mode": "standard"},
            max_pool_connections=16,
            user_agent_extra="opencmk-tenant-security-proxy",
        )
        self._verify: str | None = ca_file
        self._lock = threading.Lock()
        self._client: Any = None

    def __repr__(self) -> str:
        return f"AwsKmsProvider(key={self._key_id!r}, region={self._region!r})"

    def prepare(self) -> None:
        self._kms()

    def wrap(self, dek: bytes) -> bytes:
        answer = self._kms().encrypt(
            KeyId=self._key_id, Plaintext=dek, EncryptionContext=self._context
        )
        blob = answer.get("CiphertextBlob")
        if not isinstance(blob, bytes) or not blob:
            raise operation_failed("wrap", "AWS KMS returned no CiphertextBlob")
        return blob

    def unwrap(self, data: bytes) -> bytes:
        answer = self._kms().decrypt(
            CiphertextBlob=data, KeyId=self._key_id, EncryptionContext=self._context
        )
        plaintext = answer.get("Plaintext")
        if not isinstance(plaintext, bytes):
            raise operation_failed("unwrap", "AWS KMS returned no Plaintext")
        return plaintext

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    # -- client ----------------------------------------------------------------------------
    def _kms(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._build_client()
            return self._client

    def _build_client(self) -> Any:
        session = botocore.session.Session()
        session.register_component("data_loader", _shared_loader())
        common: dict[str, Any] = {
            "region_name": self._region,
            "config": self._botocore_config,
            "verify": self._verify,
        }
        if not self._role_arn:
            return session.create_client(
                "kms",
                endpoint_url=self._endpoint_url,
                aws_access_key_id=self._access_key_id,
                aws_secret_access_key=self._secret_access_key,
                **common,
            )
        sts = session.create_client(
            "sts",
            endpoint_url=self._sts_endpoint_url,
            aws_access_key_id=self._access_key_id,
            aws_secret_access_key=self._secret_access_key,
            **common,
        )
        # Temporary credentials are fetched on first use and refreshed by botocore before
        # they expire (it refreshes 15 min ahead), so one assume-role per ~45 min per config.
        session._credentials = DeferredRefreshableCredentials(
            refresh_using=lambda: self._assume_role(sts), method="sts-assume-role"
        )
        return session.create_client("kms", endpoint_url=self._endpoint_url, **common)

    def _assume_role(self, sts: Any) -> dict[str, str]:
        params: dict[str, Any] = {
            "RoleArn": self._role_arn,
            "RoleSessionName": "opencmk-proxy",
            "DurationSeconds": _ASSUME_ROLE_SECONDS,
        }
        if self._external_id:
            params["ExternalId"] = self._external_id
        try:
            credentials = sts.assume_role(**params)["Credentials"]
        except ClientError as exc:
            raise _AssumeRoleError(_error_code(exc)) from None
        expiration = credentials["Expiration"]
        if isinstance(expiration, datetime):
            expiration = expiration.astimezone(UTC).isoformat()
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": str(expiration),
        }

    # -- errors ----------------------------------------------------------------------------
    def classify(self, exc: BaseException, operation: str) -> KmsError:
        if isinstance(exc, _AssumeRoleError):
            code = str(exc)
            if code in _THROTTLE_CODES:
                return KmsError(KMS_THROTTLED, f"AWS STS throttled AssumeRole ({code})")
            return KmsError(
                KMS_AUTHORIZATION_FAILED, f"AWS STS refused AssumeRole of the tenant role ({code})"
            )
        if isinstance(exc, ClientError):
            return _classify_client_error(exc, operation)
        return _classify_transport(exc, operation)


def _key_and_region(config: Mapping[str, Any]) -> tuple[str, str]:
    key_arn = optional_str(config, "key_arn", NAME)
    region = optional_str(config, "region", NAME)
    if key_arn:
        match = _ARN.match(key_arn)
        if not match:
            raise config_invalid(f"{NAME} config field 'key_arn' is not a KMS key or alias ARN")
        return key_arn, region or match.group(1)
    key_id = optional_str(config, "key_id", NAME)
    if not key_id:
        raise config_invalid(f"{NAME} config is missing 'key_arn' (or 'key_id' and 'region')")
    if not region:
        raise config_invalid(f"{NAME} config is missing 'region' (needed with 'key_id')")
    return key_id, region


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


def _classify_client_error(exc: ClientError, operation: str) -> KmsError:
    code = _error_code(exc)
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code in _AUTH_CODES:
        return KmsError(KMS_AUTHORIZATION_FAILED, f"AWS KMS rejected the credentials ({code})")
    if code in _CONFIG_CODES:
        return config_invalid(f"AWS KMS refused {operation} ({code})")
    if code in _THROTTLE_CODES:
        return KmsError(KMS_THROTTLED, f"AWS KMS throttled {operation} ({code})")
    if code in _ACCOUNT_CODES:
        return KmsError(KMS_ACCOUNT_ISSUE, f"AWS account cannot use KMS ({code})")
    if code in _UNAVAILABLE_CODES or (isinstance(status, int) and status >= 500):
        return unreachable(f"AWS KMS unavailable ({code})", retryable=False)
    if code in _DATA_CODES:
        return operation_failed(operation, f"AWS KMS {code}")
    return operation_failed(operation, f"AWS KMS error {code}")


def _classify_transport(exc: BaseException, operation: str) -> KmsError:
    # Order matters: botocore's timeouts and SSLError are subclasses of its ConnectionError.
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return unreachable(f"AWS KMS timed out ({type(exc).__name__})", retryable=False)
    if isinstance(exc, SSLError):
        return unreachable("TLS handshake with AWS KMS failed", retryable=False)
    if isinstance(exc, EndpointConnectionError | ConnectionClosedError):
        return unreachable(f"cannot connect to AWS KMS ({type(exc).__name__})", retryable=True)
    if isinstance(exc, NoCredentialsError):
        return config_invalid("no AWS credentials available")
    if isinstance(exc, BotoCoreError | OSError):
        return unreachable(f"AWS transport error ({type(exc).__name__})", retryable=False)
    return operation_failed(operation, f"unexpected {type(exc).__name__}")
