"""Splunk HTTP Event Collector: `POST <url>/services/collector/event`.

Body: HEC event objects (`{"time", "host", "source", "sourcetype", "index", "event"}`) separated
by newlines — HEC's batch format; `Authorization: Splunk <token>`.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from typing import Any

from tenant_security_proxy.events.model import epoch_seconds
from tenant_security_proxy.events.sinks.base import Fields, HttpSink, dumps

PROVIDER = "splunk-hec"


class SplunkHecSink(HttpSink):
    provider = PROVIDER

    def __init__(self, config: Mapping[str, Any]) -> None:
        f = Fields(
            PROVIDER,
            config,
            required={"url", "token"},
            optional={"index", "source", "sourcetype", "host"},
        )
        base = f.url("endpoint") if config.get("endpoint") else f.url("url")
        self._url = base + "/services/collector/event"
        self._auth = "Splunk " + f.text("token")
        self._meta: dict[str, str] = {
            "host": f.opt_text("host") or socket.gethostname(),
            "source": f.opt_text("source") or "opencmk-tsp",
            "sourcetype": f.opt_text("sourcetype") or "_json",
        }
        if index := f.opt_text("index"):
            self._meta["index"] = index
        super().__init__(f)

    async def send(self, events: Sequence[Mapping[str, Any]]) -> int:
        body = "\n".join(
            dumps({"time": round(epoch_seconds(e.get("timestamp")), 3), **self._meta, "event": e})
            for e in events
        )
        headers = {"Authorization": self._auth, "Content-Type": "application/json"}
        await self._post(self._url, content=body.encode(), headers=headers)
        return 0

    def __repr__(self) -> str:
        return f"<SplunkHecSink {self._url}>"
