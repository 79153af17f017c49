"""Proxy-generated security events (DESIGN.md §6.5): never keys, plaintext or credentials."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

_last_second = -1
_last_prefix = ""


def rfc3339_now() -> str:
    """UTC time with milliseconds; the second-resolution prefix is cached (hot path)."""
    global _last_second, _last_prefix
    now = time.time()
    second = int(now)
    if second != _last_second:
        _last_second = second
        _last_prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return f"{_last_prefix}.{int((now - second) * 1000):03d}Z"


def proxy_event(
    name: str,
    tenant_id: str,
    *,
    icl_fields: Mapping[str, Any] | None = None,
    custom_fields: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "event": name,
        "tenant_id": tenant_id,
        "timestamp": rfc3339_now(),
        "source": "proxy",
        "icl_fields": dict(icl_fields) if icl_fields else {},
        "custom_fields": dict(custom_fields) if custom_fields else {},
        "details": dict(details) if details else {},
    }
