"""Typed settings read once from the environment (DESIGN.md §6.1).

Secrets are wrapped in `Secret` so that a settings object can be logged or printed without
leaking the API keys or the cluster's private keys.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from tenant_security_proxy.errors import ProxyError

DEFAULT_SYNC_INTERVAL_S: Final = 2.0  # a policy change reaches every replica within ~5 s (PR-02)
DEFAULT_MAX_STALENESS_S: Final = 24 * 3600.0
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


class ConfigError(ProxyError):
    """The environment is missing a setting or holds a bad value."""

    def __init__(self, message: str) -> None:
        super().__init__(100, message, http_status=500)


class Secret:
    """A value that never shows itself in `repr`/`str` (logs, tracebacks, settings dumps)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Settings:
    api_keys: tuple[Secret, ...]
    broker_url: str
    cluster_id: str
    cluster_signing_key: Secret  # base64 of the 32-byte Ed25519 seed
    cluster_encryption_key: Secret  # base64 of the 32-byte X25519 private key
    vendor_root_key: bytes  # the pinned trust anchor: 32-byte Ed25519 public key
    bind: str = "0.0.0.0"  # noqa: S104 - the proxy is a network service; DESIGN.md §6.1 default
    port: int = 7777
    health_port: int = 9000
    sync_interval_s: float = DEFAULT_SYNC_INTERVAL_S
    max_staleness_s: float = DEFAULT_MAX_STALENESS_S
    heartbeat_interval_s: float = 30.0
    broker_ca_file: str | None = None
    kms_timeout_s: float = 2.0
    log_level: str = "INFO"

    def signing_seed(self) -> bytes:
        return _b64_key(self.cluster_signing_key.reveal(), "TSP_CLUSTER_SIGNING_KEY")

    def encryption_secret(self) -> bytes:
        return _b64_key(self.cluster_encryption_key.reveal(), "TSP_CLUSTER_ENCRYPTION_KEY")


def parse_duration(text: str, name: str) -> float:
    """Seconds from `90`, `90s`, `500ms`, `10m`, `24h` or `1d`."""
    match = _DURATION.match(text)
    if match is None:
        raise ConfigError(f"{name} must be a duration such as 2s, 500ms, 10m or 24h; got {text!r}")
    value = float(match.group(1)) * _UNITS[match.group(2)]
    if value <= 0:
        raise ConfigError(f"{name} must be positive")
    return value


def _b64_key(value: str, name: str) -> bytes:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{name} is not valid base64") from None
    if len(raw) != 32:
        raise ConfigError(f"{name} must be 32 bytes of base64, got {len(raw)} bytes")
    return raw


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise ConfigError(f"{name} must be a port number 0-65535; got {raw!r}")
    return int(raw)


def _required(env: Mapping[str, str], *names: str) -> str:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    raise ConfigError(f"{' or '.join(names)} is required")


def _api_keys(env: Mapping[str, str]) -> tuple[Secret, ...]:
    # API_KEY / API_KEY_2 are IronCore's names; accepted for drop-in replacement of their TSP.
    first = _required(env, "TSP_API_KEY", "API_KEY")
    second = (env.get("TSP_API_KEY_2") or env.get("API_KEY_2") or "").strip()
    keys = [first] + ([second] if second else [])
    for key in keys:
        if len(key) < 16:
            raise ConfigError("API keys must be at least 16 characters")
    return tuple(Secret(k) for k in keys)


_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _broker_url(env: Mapping[str, str]) -> str:
    # P-09: TLS to the broker, except on loopback (the embedded demo and tests).
    url = _required(env, "TSP_BROKER_URL").rstrip("/")
    split = urllib.parse.urlsplit(url)
    if split.scheme == "https" and split.hostname:
        return url
    if split.scheme == "http" and split.hostname in _LOOPBACK:
        return url
    raise ConfigError("TSP_BROKER_URL must be an https:// URL (http:// only on loopback)")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build `Settings` from `env` (default `os.environ`), raising `ConfigError` on bad values."""
    env = os.environ if env is None else env
    broker_url = _broker_url(env)
    settings = Settings(
        api_keys=_api_keys(env),
        broker_url=broker_url,
        cluster_id=_required(env, "TSP_CLUSTER_ID"),
        cluster_signing_key=Secret(_required(env, "TSP_CLUSTER_SIGNING_KEY")),
        cluster_encryption_key=Secret(_required(env, "TSP_CLUSTER_ENCRYPTION_KEY")),
        vendor_root_key=_b64_key(_required(env, "TSP_VENDOR_ROOT_KEY"), "TSP_VENDOR_ROOT_KEY"),
        bind=env.get("TSP_BIND", "").strip() or "0.0.0.0",  # noqa: S104 - documented default
        port=_port(env, "TSP_PORT", 7777),
        health_port=_port(env, "TSP_HEALTH_PORT", 9000),
        sync_interval_s=parse_duration(env.get("TSP_SYNC_INTERVAL") or "2s", "TSP_SYNC_INTERVAL"),
        max_staleness_s=parse_duration(env.get("TSP_MAX_STALENESS") or "24h", "TSP_MAX_STALENESS"),
        heartbeat_interval_s=parse_duration(
            env.get("TSP_HEARTBEAT_INTERVAL") or "30s", "TSP_HEARTBEAT_INTERVAL"
        ),
        broker_ca_file=env.get("TSP_BROKER_CA_FILE") or None,
        kms_timeout_s=parse_duration(env.get("TSP_KMS_TIMEOUT") or "2s", "TSP_KMS_TIMEOUT"),
        log_level=(env.get("TSP_LOG_LEVEL") or "INFO").upper(),
    )
    # Validate key encodings now so a typo fails at start, not at the first sync.
    settings.signing_seed()
    settings.encryption_secret()
    return settings
