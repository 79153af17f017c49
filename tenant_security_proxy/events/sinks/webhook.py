"""Generic HTTPS webhook: JSON batches signed with HMAC-SHA256 (docs/security-events.md).

`POST <url>` with body `{"tenant_id", "batch_id", "events": [...]}` and headers
`X-OpenCMK-Timestamp: <unix seconds>`, `X-OpenCMK-Batch: <batch_id>`,
`X-OpenCMK-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.
Receivers recompute the MAC over the raw body, compare in constant time, and refuse timestamps
more than five minutes off (replay). `batch_id` stays the same across retries of one batch.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from tenant_security_proxy.events.sinks.base import (
    Fields,
    HttpSink,
    SinkConfigError,
    SinkDeliveryError,
    dumps,
)

PROVIDER = "webhook"
MIN_SECRET_CHARS = 16
SIGNATURE_HEADER = "X-OpenCMK-Signature"
TIMESTAMP_HEADER = "X-OpenCMK-Timestamp"
BATCH_HEADER = "X-OpenCMK-Batch"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header value for one request."""
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return "v1=" + mac


class WebhookSink(HttpSink):
    provider = PROVIDER

    def __init__(self, config: Mapping[str, Any]) -> None:
        f = Fields(PROVIDER, config, required={"url", "secret"}, optional=set())
        self._url = f.url("endpoint") if config.get("endpoint") else f.url("url")
        secret = f.text("secret")
        if len(secret) < MIN_SECRET_CHARS:
            raise SinkConfigError(
                PROVIDER, f"field 'secret' must have at least {MIN_SECRET_CHARS} characters"
            )
        self._secret = secret.encode()
        # Retries resend the same batch id so the receiver can deduplicate.
        self._batch_ids: dict[str, str] = {}
        super().__init__(f)

    async def send(self, events: Sequence[Mapping[str, Any]]) -> int:
        first_id = str(events[0].get("event_id")) if events else ""
        batch_id = self._batch_ids.setdefault(first_id, str(uuid.uuid4()))
        tenant_id = events[0].get("tenant_id") if events else None
        body = dumps({"tenant_id": tenant_id, "batch_id": batch_id, "events": list(events)})
        raw = body.encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            BATCH_HEADER: batch_id,
            SIGNATURE_HEADER: sign(self._secret, timestamp, raw),
        }
        try:
            await self._post(self._url, content=raw, headers=headers)
        except SinkDeliveryError as exc:
            if exc.retriable:
                raise
            self._batch_ids.pop(first_id, None)
            raise
        self._batch_ids.pop(first_id, None)
        return 0

    def __repr__(self) -> str:
        return f"<WebhookSink {self._url}>"
