"""Security events: validation, enrichment, per-tenant delivery to each tenant's logging sink.

See docs/security-events.md for the event shape, the sinks' wire formats and the delivery policy.
"""

from __future__ import annotations

from tenant_security_proxy.events import names
from tenant_security_proxy.events.hub import EventHub
from tenant_security_proxy.events.model import client_event, kms_event, proxy_event, rfc3339_ms
from tenant_security_proxy.events.names import EventRejectedError, validate_client_event
from tenant_security_proxy.events.sinks import SinkConfigError, SinkDeliveryError, build_sink

__all__ = [
    "EventHub",
    "EventRejectedError",
    "SinkConfigError",
    "SinkDeliveryError",
    "build_sink",
    "client_event",
    "kms_event",
    "names",
    "proxy_event",
    "rfc3339_ms",
    "validate_client_event",
]
