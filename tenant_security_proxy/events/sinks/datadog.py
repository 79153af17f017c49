"""Datadog Logs intake v2: `POST https://http-intake.logs.<site>/api/v2/logs`.

Body: a JSON array of log objects, gzip-compressed unless `gzip` is false; `DD-API-KEY` header.
Each log's `message` is the event as JSON (Datadog parses JSON messages into attributes).
"""

from __future__ import annotations

import gzip
import re
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from tenant_security_proxy.events.sinks.base import Fields, HttpSink, SinkConfigError, dumps

PROVIDER = "datadog"
_SITE_RE = re.compile(r"[a-z0-9][a-z0-9.-]*\.[a-z]{2,}")


class DatadogSink(HttpSink):
    provider = PROVIDER

    def __init__(self, config: Mapping[str, Any]) -> None:
        f = Fields(
            PROVIDER,
            config,
            required={"api_key"},
            optional={"site", "url", "service", "source", "tags", "gzip"},
        )
        self._url = _base_url(f, config) + "/api/v2/logs"
        self._api_key = f.text("api_key")
        self._service = f.opt_text("service") or "opencmk-tsp"
        self._source = f.opt_text("source") or "opencmk"
        self._tags = f.opt_text("tags")
        self._gzip = f.flag("gzip", True)
        self._host = socket.gethostname()
        super().__init__(f)

    def _log(self, event: Mapping[str, Any]) -> dict[str, str]:
        tags = f"tenant_id:{event.get('tenant_id')},event:{event.get('event')}"
        return {
            "ddsource": self._source,
            "service": self._service,
            "hostname": self._host,
            "ddtags": f"{tags},{self._tags}" if self._tags else tags,
            "message": dumps(event),
        }

    async def send(self, events: Sequence[Mapping[str, Any]]) -> int:
        body = dumps_list([self._log(e) for e in events]).encode()
        headers = {"DD-API-KEY": self._api_key, "Content-Type": "application/json"}
        if self._gzip:
            body = gzip.compress(body, compresslevel=6)
            headers["Content-Encoding"] = "gzip"
        await self._post(self._url, content=body, headers=headers)
        return 0

    def __repr__(self) -> str:
        return f"<DatadogSink {self._url}>"


def dumps_list(items: list[dict[str, str]]) -> str:
    return "[" + ",".join(dumps(item) for item in items) + "]"


def _base_url(f: Fields, config: Mapping[str, Any]) -> str:
    for name in ("endpoint", "url"):
        if config.get(name):
            return f.url(name)
    site = f.text("site", "datadoghq.com")
    if not _SITE_RE.fullmatch(site):
        raise SinkConfigError(PROVIDER, "field 'site' must be a Datadog site such as datadoghq.eu")
    return f"https://http-intake.logs.{site}"
