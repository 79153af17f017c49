"""Elasticsearch / OpenSearch: `POST <url>/_bulk` with NDJSON `create` actions.

Each event is indexed with `_id` = its `event_id`, so a batch resent after a lost response
yields 409 conflicts for what already arrived, which count as delivered (idempotent retry).
Auth: `Authorization: ApiKey <api_key>` (the base64 "encoded" key Elastic shows) or basic auth.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from tenant_security_proxy.events.sinks.base import (
    Fields,
    HttpSink,
    SinkConfigError,
    SinkDeliveryError,
    dumps,
)

PROVIDER = "elastic"


class ElasticSink(HttpSink):
    provider = PROVIDER

    def __init__(self, config: Mapping[str, Any]) -> None:
        f = Fields(
            PROVIDER,
            config,
            required={"url", "index"},
            optional={"api_key", "username", "password"},
        )
        self._url = (f.url("endpoint") if config.get("endpoint") else f.url("url")) + "/_bulk"
        self._index = f.text("index")
        if self._index.startswith(("_", "-", "+")) or any(c in self._index for c in ' "*\\<|,>/?'):
            raise SinkConfigError(PROVIDER, "field 'index' is not a valid index name")
        self._auth = _auth_header(f)
        super().__init__(f)

    async def send(self, events: Sequence[Mapping[str, Any]]) -> int:
        lines: list[str] = []
        for event in events:
            action = {"create": {"_index": self._index, "_id": str(event.get("event_id"))}}
            lines.append(dumps(action))
            lines.append(dumps(_document(event)))
        body = ("\n".join(lines) + "\n").encode()
        headers = {"Authorization": self._auth, "Content-Type": "application/x-ndjson"}
        response = await self._post(self._url, content=body, headers=headers)
        return self._rejected(response.content, len(events))

    def _rejected(self, content: bytes, expected: int) -> int:
        """Per-item outcome of a 200 bulk response: retry the batch if any item may pass later."""
        try:
            items = json.loads(content).get("items", [])
            statuses = [int(next(iter(item.values()))["status"]) for item in items]
        except (ValueError, AttributeError, KeyError, TypeError, StopIteration) as exc:
            raise SinkDeliveryError(PROVIDER, "unreadable bulk response", retriable=True) from exc
        if len(statuses) != expected:
            raise SinkDeliveryError(PROVIDER, "bulk response item count", retriable=True)
        if any(s in (429,) or s >= 500 for s in statuses):
            raise SinkDeliveryError(PROVIDER, "bulk items throttled or failed", retriable=True)
        # 201 created, 409 already there (an earlier attempt got through); the rest are final.
        return sum(1 for s in statuses if s not in (200, 201, 409))

    def __repr__(self) -> str:
        return f"<ElasticSink {self._url}>"


def _document(event: Mapping[str, Any]) -> dict[str, Any]:
    # ECS maps `event` as an object, so the event's own fields go under `opencmk`.
    ecs_event = {"action": event.get("event"), "id": event.get("event_id"), "dataset": "opencmk"}
    return {"@timestamp": event.get("timestamp"), "event": ecs_event, "opencmk": dict(event)}


def _auth_header(f: Fields) -> str:
    api_key = f.opt_text("api_key")
    username, password = f.opt_text("username"), f.opt_text("password")
    if api_key and (username or password):
        raise SinkConfigError(PROVIDER, "give either 'api_key' or 'username'+'password', not both")
    if api_key:
        return "ApiKey " + api_key
    if username and password:
        return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    raise SinkConfigError(PROVIDER, "missing field(s): api_key, or username and password")
