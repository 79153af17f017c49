"""Error codes of DESIGN.md §6.3 (IronCore's numbering) and the proxy's root exception."""

from __future__ import annotations

UNKNOWN_ERROR = 100
UNAUTHORIZED_REQUEST = 101
INVALID_REQUEST_BODY = 102
NO_PRIMARY_KMS_CONFIGURATION = 200
UNKNOWN_TENANT_OR_NO_ACTIVE_KMS_CONFIGURATIONS = 201
KMS_CONFIGURATION_DISABLED = 202
INVALID_PROVIDED_EDEK = 203
KMS_WRAP_FAILED = 204
KMS_UNWRAP_FAILED = 205
KMS_AUTHORIZATION_FAILED = 206
KMS_CONFIGURATION_INVALID = 207
KMS_UNREACHABLE = 208
KMS_THROTTLED = 209
KMS_ACCOUNT_ISSUE = 210
SECURITY_EVENT_REJECTED = 301

DEFAULT_MESSAGES: dict[int, str] = {
    UNKNOWN_ERROR: "Unknown request error occurred",
    UNAUTHORIZED_REQUEST: "Request authorization header API key was incorrect.",
    INVALID_REQUEST_BODY: "Request body was invalid.",
    NO_PRIMARY_KMS_CONFIGURATION: "Tenant has no primary KMS configuration.",
    UNKNOWN_TENANT_OR_NO_ACTIVE_KMS_CONFIGURATIONS: (
        "Tenant either doesn't exist or has no active KMS configurations."
    ),
    KMS_CONFIGURATION_DISABLED: "Tenant configuration specified in EDEK is no longer active.",
    INVALID_PROVIDED_EDEK: "Provided EDEK is not valid.",
    KMS_WRAP_FAILED: "Request to KMS API to wrap key returned invalid results.",
    KMS_UNWRAP_FAILED: "Request to KMS API to unwrap key returned invalid results.",
    KMS_AUTHORIZATION_FAILED: "Request to KMS failed because the tenant credentials were invalid.",
    KMS_CONFIGURATION_INVALID: "Request to KMS failed because the key configuration was invalid.",
    KMS_UNREACHABLE: "Request to KMS failed because KMS was unreachable.",
    KMS_THROTTLED: "Request to KMS failed because KMS throttled the request.",
    KMS_ACCOUNT_ISSUE: "Request to KMS failed because of an issue with the KMS account.",
    SECURITY_EVENT_REJECTED: "Tenant Security Proxy could not accept the security event.",
}

# IronCore's clients key off `code`; the HTTP status only has to be sensible (Java maps 401 to 101).
HTTP_STATUS: dict[int, int] = {
    UNKNOWN_ERROR: 500,
    UNAUTHORIZED_REQUEST: 401,
    INVALID_REQUEST_BODY: 400,
    NO_PRIMARY_KMS_CONFIGURATION: 404,
    UNKNOWN_TENANT_OR_NO_ACTIVE_KMS_CONFIGURATIONS: 404,
    KMS_CONFIGURATION_DISABLED: 403,
    INVALID_PROVIDED_EDEK: 400,
    KMS_WRAP_FAILED: 502,
    KMS_UNWRAP_FAILED: 502,
    KMS_AUTHORIZATION_FAILED: 502,
    KMS_CONFIGURATION_INVALID: 502,
    KMS_UNREACHABLE: 504,
    KMS_THROTTLED: 429,
    KMS_ACCOUNT_ISSUE: 502,
    SECURITY_EVENT_REJECTED: 400,
}


class ProxyError(Exception):
    """Root of every error the proxy turns into an IronCore `{"code", "message"}` response."""

    def __init__(self, code: int, message: str | None = None, *, http_status: int | None = None):
        self.code = code
        self.message = message if message is not None else DEFAULT_MESSAGES.get(code, "Error")
        self.http_status = http_status if http_status is not None else HTTP_STATUS.get(code, 500)
        # The KMS config a failed key operation was for, when known (for its security event).
        self.kms_config_id: int | None = None
        super().__init__(f"{code}: {self.message}")

    def to_json(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message}


class ServiceUnavailableError(ProxyError):
    """The proxy cannot serve yet (cold start without the broker) or any more (stale, sealed)."""

    def __init__(self, message: str) -> None:
        super().__init__(UNKNOWN_ERROR, message, http_status=503)
