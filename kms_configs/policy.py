"""Checks of a ``tenant-policy`` payload that need no database (DESIGN.md §3, issue 5 item 3).

The proxy repeats the structural checks (docs/sync-protocol.md §5); the broker does them first
so a tenant admin gets a clear error instead of a proxy that silently keeps the old policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kms_configs.errors import PolicyRejectedError

KMS_PROVIDERS = frozenset({"aws-kms", "gcp-kms", "azure-key-vault", "vault-transit"})
STATES = frozenset({"primary", "active", "disabled"})
MAX_CONFIG_ID = 2**31 - 1
MAX_CONFIGS = 64
MAX_CLUSTERS = 64


@dataclass(frozen=True)
class PolicyEntry:
    config_id: int
    kind: str
    provider: str
    state: str  # "logging" entries are always "active"
    content_digest: str

    @property
    def in_use(self) -> bool:
        return self.state in ("primary", "active")


@dataclass(frozen=True)
class ParsedPolicy:
    version: int
    entries: list[PolicyEntry]
    clusters: list[str]
    leasing: bool


def _config_id(value: object) -> int:
    if type(value) is not int or not 0 < value <= MAX_CONFIG_ID:
        raise PolicyRejectedError("Each config_id must be an integer in 1..2^31-1.")
    return value


def _digest(value: object) -> str:
    if not isinstance(value, str) or len(value) != 44:
        raise PolicyRejectedError("Each content_digest must be a base64 SHA-256.")
    return value


def _kms_entry(raw: object) -> PolicyEntry:
    if not isinstance(raw, Mapping):
        raise PolicyRejectedError("Each kms_configs entry must be an object.")
    provider, state = raw.get("provider"), raw.get("state")
    if provider not in KMS_PROVIDERS:
        raise PolicyRejectedError("Unknown KMS provider in the policy.")
    if state not in STATES:
        raise PolicyRejectedError("A config state must be primary, active or disabled.")
    return PolicyEntry(
        _config_id(raw.get("config_id")),
        "kms",
        str(provider),
        str(state),
        _digest(raw.get("content_digest")),
    )


def _logging_entry(raw: object) -> PolicyEntry | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise PolicyRejectedError("logging must be an object or null.")
    return PolicyEntry(
        _config_id(raw.get("config_id")),
        "logging",
        "",
        "active",
        _digest(raw.get("content_digest")),
    )


def _clusters(raw: object) -> list[str]:
    if not isinstance(raw, list) or len(raw) > MAX_CLUSTERS:
        raise PolicyRejectedError("clusters must be a list of cluster ids.")
    if not all(isinstance(c, str) and 0 < len(c) <= 64 for c in raw) or len(set(raw)) != len(raw):
        raise PolicyRejectedError("clusters must list distinct cluster ids.")
    return list(raw)


def _leasing(raw: object) -> bool:
    if not isinstance(raw, Mapping) or type(raw.get("enabled")) is not bool:
        raise PolicyRejectedError("leasing must be {enabled, max_age_s}.")
    max_age = raw.get("max_age_s")
    if type(max_age) not in (int, float) or not 0 < max_age <= 30 * 86400:  # type: ignore[operator]
        raise PolicyRejectedError("leasing.max_age_s must be a positive number of seconds.")
    return bool(raw["enabled"])


def parse_policy(payload: Mapping[str, Any]) -> ParsedPolicy:
    """Structure and lifecycle rules; raises PolicyRejectedError with a message for people."""
    version = payload.get("version")
    if type(version) is not int or version < 1:
        raise PolicyRejectedError("The policy version must be a positive integer.")
    kms = payload.get("kms_configs")
    if not isinstance(kms, list) or len(kms) > MAX_CONFIGS:
        raise PolicyRejectedError("kms_configs must be a list.")
    entries = [_kms_entry(raw) for raw in kms]
    logging = _logging_entry(payload.get("logging"))
    ids = [e.config_id for e in entries] + ([logging.config_id] if logging else [])
    if len(set(ids)) != len(ids):
        raise PolicyRejectedError("A config id appears twice in the policy.")
    primaries = sum(1 for e in entries if e.state == "primary")
    if any(e.in_use for e in entries) and primaries != 1:
        raise PolicyRejectedError("Exactly one KMS config must be primary while any is active.")
    leasing = _leasing(payload.get("leasing"))
    if leasing and logging is None:
        raise PolicyRejectedError("Key leasing can be enabled only with a logging config.")
    return ParsedPolicy(
        version,
        entries + ([logging] if logging else []),
        _clusters(payload.get("clusters")),
        leasing,
    )
