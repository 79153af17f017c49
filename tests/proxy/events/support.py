"""Helpers shared by the event tests: sink configs for the local receivers, events, a fast hub."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from typing import Any

from tenant_security_proxy.events import EventHub, client_event
from tests.fakes.log_receivers import (
    DatadogReceiver,
    ElasticReceiver,
    GcpLoggingReceiver,
    SplunkHecReceiver,
    SyslogTlsReceiver,
    Tls,
    WebhookReceiver,
)

HEC_TOKEN = "hec-token-0b8f3c1e"
DD_KEY = "dd-api-key-77aa"
WEBHOOK_SECRET = "whsec-0123456789abcdef"
ELASTIC_KEY = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="


def splunk_config(receiver: SplunkHecReceiver, tls: Tls, **extra: Any) -> dict[str, Any]:
    return {
        "provider": "splunk-hec",
        "url": receiver.url,
        "token": HEC_TOKEN,
        "ca_cert": tls.ca_pem,
        **extra,
    }


def gcp_config(receiver: GcpLoggingReceiver, tls: Tls) -> dict[str, Any]:
    return {
        "provider": "gcp-cloud-logging",
        "project_id": receiver.project_id,
        "log_id": receiver.log_id,
        "client_email": receiver.client_email,
        "private_key": receiver.private_key_pem,
        "endpoint": receiver.url,
        "token_uri": receiver.url + "/token",
        "ca_cert": tls.ca_pem,
    }


def elastic_config(receiver: ElasticReceiver, tls: Tls) -> dict[str, Any]:
    return {
        "provider": "elastic",
        "url": receiver.url,
        "index": receiver.index,
        "api_key": ELASTIC_KEY,
        "ca_cert": tls.ca_pem,
    }


def datadog_config(receiver: DatadogReceiver, tls: Tls, **extra: Any) -> dict[str, Any]:
    return {
        "provider": "datadog",
        "url": receiver.url,
        "api_key": DD_KEY,
        "ca_cert": tls.ca_pem,
        **extra,
    }


def webhook_config(receiver: WebhookReceiver, tls: Tls) -> dict[str, Any]:
    return {
        "provider": "webhook",
        "url": receiver.url + receiver.path,
        "secret": WEBHOOK_SECRET,
        "ca_cert": tls.ca_pem,
    }


def syslog_config(receiver: SyslogTlsReceiver, tls: Tls) -> dict[str, Any]:
    return {"provider": "syslog", "host": "127.0.0.1", "port": receiver.port, "ca_cert": tls.ca_pem}


def event(seq: int, tenant_id: str = "tenant-a", name: str = "CUSTOM_TEST_EVENT") -> dict[str, Any]:
    return client_event(
        tenant_id=tenant_id,
        event=name,
        icl_fields={"requestingId": "user-1", "requestId": f"req-{seq}", "dataLabel": None},
        custom_fields={"seq": str(seq)},
        timestamp_millis=1_714_930_605_576 + seq,
    )


def seqs(events: list[dict[str, Any]]) -> list[int]:
    return [int(e["custom_fields"]["seq"]) for e in events]


def fast_hub(**overrides: Any) -> EventHub:
    """A hub with test-sized intervals: flushes in 20 ms, retries after ~10-20 ms."""
    options: dict[str, Any] = {
        "max_queue_per_tenant": 1000,
        "batch_size": 10,
        "flush_interval_s": 0.02,
        "stdout": io.StringIO(),
        "retry_base_s": 0.02,
        "retry_cap_s": 0.1,
        "stop_timeout_s": 3.0,
    }
    options.update(overrides)
    return EventHub(**options)


async def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def run(coro: Awaitable[Any]) -> Any:
    async def main() -> Any:
        return await coro

    return asyncio.run(main())
