"""Settings shared by both clients: validated once at construction."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from ._exceptions import ConfigurationError
from ._transport import Endpoint, RetryPolicy, Timeouts

__version__ = "0.1.0"


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """Validated connection settings; the API key is kept out of ``repr``."""

    endpoint: Endpoint
    headers: dict[str, str]
    timeouts: Timeouts
    retry: RetryPolicy
    pool_size: int
    ssl_context: ssl.SSLContext | None

    def __repr__(self) -> str:
        return f"ClientSettings(endpoint={self.endpoint!r}, api_key=<redacted>)"


def make_settings(
    url: str,
    api_key: str,
    *,
    allow_insecure_http: bool,
    timeouts: Timeouts | None,
    retry: RetryPolicy | None,
    pool_size: int,
    ssl_context: ssl.SSLContext | None,
) -> ClientSettings:
    """Check the arguments common to both clients."""
    if not isinstance(api_key, str) or not api_key.strip() or any(c in api_key for c in "\r\n"):
        raise ConfigurationError("api_key must be a non-empty single-line string")
    if pool_size < 1:
        raise ConfigurationError("pool_size must be at least 1")
    headers = {
        "Authorization": f"cmk {api_key}",
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": f"opencmk-tenant-security-client-python/{__version__}",
        # IronCore's clients announce themselves so proxies can report client versions.
        "x-icl-tsc-language": "python",
        "x-icl-tsc-version": __version__,
    }
    return ClientSettings(
        endpoint=Endpoint.parse(url, allow_insecure_http=allow_insecure_http),
        headers=headers,
        timeouts=timeouts or Timeouts(),
        retry=retry or RetryPolicy(),
        pool_size=pool_size,
        ssl_context=ssl_context,
    )
