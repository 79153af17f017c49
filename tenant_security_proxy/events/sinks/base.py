"""What every sink shares: the Sink protocol, config validation, errors, and an httpx base.

Config errors name the provider and the field, never a value: values are the tenant's
credentials, decrypted only in this process's memory (DESIGN.md §6.2).
"""

from __future__ import annotations

import ipaddress
import json
import ssl
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import httpx
import orjson

from tenant_security_proxy.errors import UNKNOWN_ERROR, ProxyError

DEFAULT_TIMEOUT_S = 5.0
COMMON_OPTIONAL = frozenset({"provider", "endpoint", "ca_cert", "timeout_s"})


class SinkConfigError(ProxyError):
    """A tenant's logging config is unusable; the message names fields, never values."""

    def __init__(self, provider: str, problem: str) -> None:
        super().__init__(UNKNOWN_ERROR, f"logging config ({provider}): {problem}")


class SinkDeliveryError(ProxyError):
    """One delivery attempt failed; `retriable` says whether sending again may succeed."""

    def __init__(self, provider: str, reason: str, *, retriable: bool) -> None:
        self.provider = provider
        self.reason = reason
        self.retriable = retriable
        super().__init__(UNKNOWN_ERROR, f"{provider} delivery failed: {reason}")


class Sink(Protocol):
    provider: str

    async def send(self, events: Sequence[Mapping[str, Any]]) -> int:
        """Deliver one batch of one tenant's events, in order.

        Returns how many events the receiver rejected for good (e.g. a mapping error on one
        document); raises SinkDeliveryError when the batch as a whole failed.
        """
        ...

    async def aclose(self) -> None: ...


_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps_bytes(event: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON; control characters are escaped, so one event is one line (L-09).

    orjson (several times faster than `json`, and this runs once per event); what it refuses
    (integers past 64 bits, nesting past 254 levels) falls back to the standard library.
    """
    try:
        return orjson.dumps(event, default=str, option=_ORJSON_OPTIONS)
    except (orjson.JSONEncodeError, TypeError):
        text = json.dumps(event, separators=(",", ":"), ensure_ascii=False, default=str)
        return text.encode("utf-8", "surrogatepass")


_LINE_OPTIONS = _ORJSON_OPTIONS | orjson.OPT_APPEND_NEWLINE


def dumps_line(event: Mapping[str, Any]) -> bytes:
    """`dumps_bytes` plus the newline that ends a JSON line, in one allocation."""
    try:
        return orjson.dumps(event, default=str, option=_LINE_OPTIONS)
    except (orjson.JSONEncodeError, TypeError):
        return dumps_bytes(event) + b"\n"


def dumps(event: Mapping[str, Any]) -> str:
    """`dumps_bytes` as text."""
    return dumps_bytes(event).decode("utf-8", "surrogatepass")


class Fields:
    """Typed access to one provider's config with errors that never echo a value."""

    def __init__(
        self, provider: str, config: Mapping[str, Any], *, required: set[str], optional: set[str]
    ) -> None:
        self.provider = provider
        self._config = config
        unknown = set(config) - required - optional - COMMON_OPTIONAL
        if unknown:
            raise SinkConfigError(provider, f"unknown field(s): {', '.join(sorted(unknown))}")
        missing = [name for name in sorted(required) if config.get(name) in (None, "")]
        if missing:
            raise SinkConfigError(provider, f"missing field(s): {', '.join(missing)}")

    def _get(self, name: str, default: Any) -> Any:
        # The browser may send an optional field as null or "": both mean "not given".
        value = self._config.get(name)
        return default if value is None or value == "" else value

    def text(self, name: str, default: str | None = None) -> str:
        value = self._get(name, default)
        if not isinstance(value, str) or not value:
            raise SinkConfigError(self.provider, f"field '{name}' must be a non-empty string")
        return value

    def opt_text(self, name: str) -> str | None:
        if self._config.get(name) in (None, ""):
            return None
        return self.text(name)

    def integer(self, name: str, default: int, *, low: int, high: int) -> int:
        value = self._get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise SinkConfigError(
                self.provider, f"field '{name}' must be an integer in {low}..{high}"
            )
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self._get(name, default)
        if not isinstance(value, bool):
            raise SinkConfigError(self.provider, f"field '{name}' must be true or false")
        return value

    def timeout(self) -> float:
        value = self._get("timeout_s", DEFAULT_TIMEOUT_S)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 60:
            raise SinkConfigError(self.provider, "field 'timeout_s' must be a number in (0, 60]")
        return float(value)

    def url(self, name: str, default: str | None = None) -> str:
        """An https URL (http only to a loopback host, for local receivers)."""
        raw = self.text(name, default).rstrip("/")
        parsed = urllib.parse.urlsplit(raw)
        if parsed.username or parsed.password:
            raise SinkConfigError(self.provider, f"field '{name}' must not embed credentials")
        if parsed.scheme == "https" and parsed.hostname:
            return raw
        if parsed.scheme == "http" and parsed.hostname and _is_loopback(parsed.hostname):
            return raw
        raise SinkConfigError(self.provider, f"field '{name}' must be an https:// URL")

    def ssl_context(self) -> ssl.SSLContext:
        """System trust store, or only the PEM CA the config names (private CAs, tests)."""
        pem = self.opt_text("ca_cert")
        if pem is None:
            return ssl.create_default_context()
        try:
            return ssl.create_default_context(cadata=pem)
        except (ssl.SSLError, ValueError) as exc:
            raise SinkConfigError(
                self.provider, "field 'ca_cert' is not a PEM certificate"
            ) from exc


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HttpSink:
    """Base for the HTTP sinks: one pooled AsyncClient per sink, status classification."""

    provider = "http"

    def __init__(self, fields: Fields) -> None:
        # trust_env=False: a tenant's events go where its config says, not to an env proxy.
        self._client = httpx.AsyncClient(
            verify=fields.ssl_context(),
            timeout=httpx.Timeout(fields.timeout()),
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=2),
            follow_redirects=False,
            trust_env=False,
        )

    async def _post(
        self, url: str, *, content: bytes, headers: Mapping[str, str]
    ) -> httpx.Response:
        try:
            response = await self._client.post(url, content=content, headers=dict(headers))
        except httpx.TimeoutException as exc:
            raise SinkDeliveryError(self.provider, "timeout", retriable=True) from exc
        except (httpx.HTTPError, OSError, RuntimeError) as exc:
            # RuntimeError: the client was closed under us by a config change; the hub
            # retries the batch with the new sink.
            reason = f"connection error ({type(exc).__name__})"
            raise SinkDeliveryError(self.provider, reason, retriable=True) from exc
        check_status(self.provider, response.status_code)
        return response

    async def aclose(self) -> None:
        await self._client.aclose()


def check_status(provider: str, status: int) -> None:
    """2xx is success; 408/429/5xx may pass later; any other status will not."""
    if 200 <= status < 300:
        return
    retriable = status in (408, 425, 429) or status >= 500
    raise SinkDeliveryError(provider, f"HTTP {status}", retriable=retriable)
