"""Security events a vendor application reports to the tenant's logging system."""

from __future__ import annotations

import enum
import re

from ._exceptions import ConfigurationError

__all__ = [
    "AdminEvent",
    "CustomEvent",
    "DataEvent",
    "PeriodicEvent",
    "SecurityEvent",
    "UserEvent",
]

_CUSTOM_NAME = re.compile(r"[A-Z][A-Z_]*")


class UserEvent(enum.StrEnum):
    """Events about end users; the wire value is ``USER_<NAME>``."""

    ADD = "USER_ADD"
    SUSPEND = "USER_SUSPEND"
    REMOVE = "USER_REMOVE"
    LOGIN = "USER_LOGIN"
    TIMEOUT_SESSION = "USER_TIMEOUT_SESSION"
    LOCKOUT = "USER_LOCKOUT"
    LOGOUT = "USER_LOGOUT"
    CHANGE_PERMISSIONS = "USER_CHANGE_PERMISSIONS"
    EXPIRE_PASSWORD = "USER_EXPIRE_PASSWORD"  # noqa: S105 - an event name, not a password
    RESET_PASSWORD = "USER_RESET_PASSWORD"  # noqa: S105
    CHANGE_PASSWORD = "USER_CHANGE_PASSWORD"  # noqa: S105
    REJECT_LOGIN = "USER_REJECT_LOGIN"
    ENABLE_TWO_FACTOR = "USER_ENABLE_TWO_FACTOR"
    DISABLE_TWO_FACTOR = "USER_DISABLE_TWO_FACTOR"
    CHANGE_EMAIL = "USER_CHANGE_EMAIL"
    REQUEST_EMAIL_VERIFICATION = "USER_REQUEST_EMAIL_VERIFICATION"
    VERIFY_EMAIL = "USER_VERIFY_EMAIL"


class AdminEvent(enum.StrEnum):
    """Events about the vendor application's administrators (``ADMIN_<NAME>``)."""

    ADD = "ADMIN_ADD"
    REMOVE = "ADMIN_REMOVE"
    CHANGE_PERMISSIONS = "ADMIN_CHANGE_PERMISSIONS"
    CHANGE_SETTING = "ADMIN_CHANGE_SETTING"


class DataEvent(enum.StrEnum):
    """Events about the tenant's data (``DATA_<NAME>``)."""

    IMPORT = "DATA_IMPORT"
    EXPORT = "DATA_EXPORT"
    ENCRYPT = "DATA_ENCRYPT"
    DECRYPT = "DATA_DECRYPT"
    CREATE = "DATA_CREATE"
    DELETE = "DATA_DELETE"
    DENY_ACCESS = "DATA_DENY_ACCESS"
    CHANGE_PERMISSIONS = "DATA_CHANGE_PERMISSIONS"


class PeriodicEvent(enum.StrEnum):
    """Scheduled housekeeping events (``PERIODIC_<NAME>``)."""

    ENFORCE_RETENTION_POLICY = "PERIODIC_ENFORCE_RETENTION_POLICY"
    CREATE_BACKUP = "PERIODIC_CREATE_BACKUP"


class CustomEvent(str):
    """A vendor-defined event; ``CustomEvent("INVOICE_SENT")`` is sent as ``CUSTOM_INVOICE_SENT``.

    The name must be SCREAMING_SNAKE_CASE and must not start with ``_`` (as IronCore's clients
    require), so that custom events can never collide with the built-in vocabularies.
    """

    __slots__ = ()

    def __new__(cls, name: str) -> CustomEvent:
        """Validate ``name`` and build the wire value."""
        if not isinstance(name, str) or not _CUSTOM_NAME.fullmatch(name):
            raise ConfigurationError("custom event names must match [A-Z][A-Z_]*")
        return super().__new__(cls, "CUSTOM_" + name)


SecurityEvent = UserEvent | AdminEvent | DataEvent | PeriodicEvent | CustomEvent
"""Any event accepted by ``log_security_event``."""
