"""Security-event names: the exact vocabulary IronCore's client SDKs send (DESIGN.md §6.5).

The client SDKs (Java `logdriver/v1`, Node `src/logdriver`, PHP `SecurityEvents`, alloy
`saas_shield`) flatten an event to `FAMILY_NAME`. We accept exactly those strings, plus
`CUSTOM_<NAME>` where `NAME` follows IronCore's rule for custom events: SCREAMING_SNAKE
(`[A-Z_]+`), non-empty, not starting with `_` (Java's full-match rule; Node/PHP test the same
regex unanchored, which is weaker).
"""

from __future__ import annotations

import re

from tenant_security_proxy.errors import SECURITY_EVENT_REJECTED, ProxyError

USER_EVENTS = frozenset(
    "USER_" + name
    for name in (
        "ADD",
        "SUSPEND",
        "REMOVE",
        "LOGIN",
        "TIMEOUT_SESSION",
        "LOCKOUT",
        "LOGOUT",
        "CHANGE_PERMISSIONS",
        "EXPIRE_PASSWORD",
        "RESET_PASSWORD",
        "CHANGE_PASSWORD",
        "REJECT_LOGIN",
        "ENABLE_TWO_FACTOR",
        "DISABLE_TWO_FACTOR",
        "CHANGE_EMAIL",
        "REQUEST_EMAIL_VERIFICATION",
        "VERIFY_EMAIL",
    )
)
ADMIN_EVENTS = frozenset(
    "ADMIN_" + name for name in ("ADD", "REMOVE", "CHANGE_PERMISSIONS", "CHANGE_SETTING")
)
DATA_EVENTS = frozenset(
    "DATA_" + name
    for name in (
        "IMPORT",
        "EXPORT",
        "ENCRYPT",
        "DECRYPT",
        "CREATE",
        "DELETE",
        "DENY_ACCESS",
        "CHANGE_PERMISSIONS",
    )
)
PERIODIC_EVENTS = frozenset(
    "PERIODIC_" + name for name in ("ENFORCE_RETENTION_POLICY", "CREATE_BACKUP")
)
KNOWN_CLIENT_EVENTS = USER_EVENTS | ADMIN_EVENTS | DATA_EVENTS | PERIODIC_EVENTS

# IronCore's Go client sends the periodic events without their family prefix; accepting them
# (and normalising) keeps Go callers working without widening what reaches the tenant's SIEM.
_GO_CLIENT_ALIASES = {name.removeprefix("PERIODIC_"): name for name in PERIODIC_EVENTS}

# A cap the SDKs do not have, so that one request cannot push a megabyte into every sink.
MAX_CUSTOM_NAME_LENGTH = 128
_CUSTOM_RE = re.compile(r"CUSTOM_[A-Z][A-Z_]*")

# Events the proxy generates itself (source "proxy"); clients may not send these names.
KMS_WRAP = "KMS_WRAP"
KMS_UNWRAP = "KMS_UNWRAP"
KMS_REKEY = "KMS_REKEY"
KMS_DERIVE = "KMS_DERIVE"
LEASED_KEY_CREATED = "LEASED_KEY_CREATED"
CONFIG_LOADED = "CONFIG_LOADED"
CONFIG_REJECTED = "CONFIG_REJECTED"
EVENTS_DROPPED = "EVENTS_DROPPED"
# Also emitted by the proxy core (tenant_security_proxy/loader.py, runtime.py, api.py).
CONFIG_REMOVED = "CONFIG_REMOVED"
CONFIG_STALE = "CONFIG_STALE"
LOGGING_CONFIG_REJECTED = "LOGGING_CONFIG_REJECTED"
KMS_CACHED_KEY_OPERATIONS = "KMS_CACHED_KEY_OPERATIONS"
PROXY_SEALED = "PROXY_SEALED"
PROXY_EVENTS = frozenset(
    {
        KMS_WRAP,
        KMS_UNWRAP,
        KMS_REKEY,
        KMS_DERIVE,
        LEASED_KEY_CREATED,
        CONFIG_LOADED,
        CONFIG_REJECTED,
        EVENTS_DROPPED,
        CONFIG_REMOVED,
        CONFIG_STALE,
        LOGGING_CONFIG_REJECTED,
        KMS_CACHED_KEY_OPERATIONS,
        PROXY_SEALED,
    }
)


class EventRejectedError(ProxyError):
    """A client security event the proxy will not accept (IronCore code 301)."""

    def __init__(self, message: str = "Tenant Security Proxy could not accept the security event."):
        super().__init__(SECURITY_EVENT_REJECTED, message)


def validate_client_event(name: object) -> str:
    """Return the canonical event name a client sent, or raise EventRejectedError (301).

    The rejection message never repeats the submitted name: it is caller-controlled text that
    would otherwise flow into error responses and logs unchecked.
    """
    if not isinstance(name, str) or not name:
        raise EventRejectedError("Security event name is missing or not a string.")
    if name in KNOWN_CLIENT_EVENTS:
        return name
    alias = _GO_CLIENT_ALIASES.get(name)
    if alias is not None:
        return alias
    if len(name) <= MAX_CUSTOM_NAME_LENGTH and _CUSTOM_RE.fullmatch(name):
        return name
    if name.startswith("CUSTOM_"):
        raise EventRejectedError(
            "Custom event names must be CUSTOM_ followed by SCREAMING_SNAKE_CASE starting "
            f"with a letter (at most {MAX_CUSTOM_NAME_LENGTH} characters)."
        )
    raise EventRejectedError(
        "Unknown security event; expected a USER_, ADMIN_, DATA_, PERIODIC_ or CUSTOM_ event."
    )
