from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.log_receivers import (
    DatadogReceiver,
    ElasticReceiver,
    GcpLoggingReceiver,
    SplunkHecReceiver,
    SyslogTlsReceiver,
    Tls,
    WebhookReceiver,
)
from tests.proxy.events.support import DD_KEY, ELASTIC_KEY, HEC_TOKEN, WEBHOOK_SECRET


@pytest.fixture(scope="session")
def tls() -> Tls:
    return Tls()


def _serve(receiver: Any) -> Iterator[Any]:
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def splunk(tls: Tls) -> Iterator[SplunkHecReceiver]:
    yield from _serve(SplunkHecReceiver(tls, HEC_TOKEN))


@pytest.fixture
def gcp(tls: Tls) -> Iterator[GcpLoggingReceiver]:
    receiver = GcpLoggingReceiver(
        tls, project_id="acme-logs-123", log_id="opencmk/security", client_email="tsp@acme.iam"
    )
    yield from _serve(receiver)


@pytest.fixture
def elastic(tls: Tls) -> Iterator[ElasticReceiver]:
    yield from _serve(ElasticReceiver(tls, index="opencmk-events", auth=f"ApiKey {ELASTIC_KEY}"))


@pytest.fixture
def datadog(tls: Tls) -> Iterator[DatadogReceiver]:
    yield from _serve(DatadogReceiver(tls, DD_KEY))


@pytest.fixture
def webhook(tls: Tls) -> Iterator[WebhookReceiver]:
    yield from _serve(WebhookReceiver(tls, WEBHOOK_SECRET))


@pytest.fixture
def syslog(tls: Tls) -> Iterator[SyslogTlsReceiver]:
    yield from _serve(SyslogTlsReceiver(tls))
