"""One sink per logging provider of DESIGN.md §5, built from a tenant's decrypted logging config."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TextIO

from tenant_security_proxy.events.sinks.base import (
    Sink,
    SinkConfigError,
    SinkDeliveryError,
)
from tenant_security_proxy.events.sinks.datadog import DatadogSink
from tenant_security_proxy.events.sinks.elastic import ElasticSink
from tenant_security_proxy.events.sinks.gcp_cloud_logging import GcpCloudLoggingSink
from tenant_security_proxy.events.sinks.splunk_hec import SplunkHecSink
from tenant_security_proxy.events.sinks.stdout import StdoutSink
from tenant_security_proxy.events.sinks.syslog import SyslogSink
from tenant_security_proxy.events.sinks.webhook import WebhookSink

PROVIDERS: dict[str, Callable[[Mapping[str, Any]], Sink]] = {
    "splunk-hec": SplunkHecSink,
    "gcp-cloud-logging": GcpCloudLoggingSink,
    "elastic": ElasticSink,
    "datadog": DatadogSink,
    "webhook": WebhookSink,
    "syslog": SyslogSink,
}


def build_sink(config: Mapping[str, Any] | None, *, stdout: TextIO) -> Sink:
    """The sink for a logging config; None means the proxy's stdout (JSON lines)."""
    if config is None:
        return StdoutSink(stdout)
    if not isinstance(config, Mapping):
        raise SinkConfigError("unknown", "the logging config must be a JSON object")
    provider = config.get("provider")
    factory = PROVIDERS.get(provider) if isinstance(provider, str) else None
    if factory is None:
        raise SinkConfigError(
            "unknown", f"field 'provider' must be one of: {', '.join(sorted(PROVIDERS))}"
        )
    return factory(config)


__all__ = [
    "PROVIDERS",
    "Sink",
    "SinkConfigError",
    "SinkDeliveryError",
    "StdoutSink",
    "build_sink",
]
