"""Canary test (ACCEPTANCE L-08): sink credentials and secret-named event fields never appear
in proxy logs, stats, stdout, or what the sinks receive — also while deliveries fail."""

from __future__ import annotations

import io
import json
import logging

import pytest

from tenant_security_proxy.events import names
from tests.fakes.log_receivers import (
    DatadogReceiver,
    ElasticReceiver,
    GcpLoggingReceiver,
    SplunkHecReceiver,
    WebhookReceiver,
)
from tests.proxy.events.support import event, eventually, fast_hub, gcp_config, run

CANARY = "CANARY7c1e0b"

pytestmark = pytest.mark.services


def test_no_sink_credential_or_secret_field_leaks_anywhere(tls, caplog):
    gcp = GcpLoggingReceiver(tls, project_id="acme-logs", log_id="x", client_email="e@x")
    receivers = {
        "splunk": SplunkHecReceiver(tls, f"{CANARY}-hec"),
        "elastic": ElasticReceiver(tls, index="i", auth=f"ApiKey {CANARY}-es"),
        "datadog": DatadogReceiver(tls, f"{CANARY}-dd"),
        "webhook": WebhookReceiver(tls, f"{CANARY}-webhook-secret"),
        "gcp": gcp,
    }
    for receiver in receivers.values():
        receiver.start()
        receiver.fail_next(2, status=500)  # failures make the hub log warnings
    r = receivers
    configs = {
        "splunk": {"provider": "splunk-hec", "url": r["splunk"].url, "token": f"{CANARY}-hec"},
        "elastic": {
            "provider": "elastic", "url": r["elastic"].url, "index": "i", "api_key": f"{CANARY}-es",
        },
        "datadog": {"provider": "datadog", "url": r["datadog"].url, "api_key": f"{CANARY}-dd"},
        "webhook": {
            "provider": "webhook", "url": r["webhook"].url + r["webhook"].path,
            "secret": f"{CANARY}-webhook-secret",
        },
        "bad-token": {"provider": "splunk-hec", "url": r["splunk"].url, "token": f"{CANARY}-bad"},
    }  # fmt: skip
    for config in configs.values():
        config["ca_cert"] = tls.ca_pem
    configs["gcp"] = gcp_config(gcp, tls)
    key_body = gcp.private_key_pem.splitlines()[5]
    out = io.StringIO()
    hub = fast_hub(stdout=out)

    async def scenario():
        await hub.start()
        for tenant, config in configs.items():
            hub.configure_tenant(tenant, config)
        for tenant in [*configs, "stdout-tenant"]:
            hub.emit(tenant, event(0, tenant_id=tenant))
            hub.emit(
                tenant,
                {"event": names.KMS_WRAP, "details": {"token": CANARY, "dek": CANARY.encode()}},
            )
        await eventually(
            lambda: (
                all(len(rc.events) >= 2 for rc in receivers.values())
                and hub.stats()["bad-token"]["failed"] == 2
                and out.getvalue().count("\n") == 2
            )
        )
        await hub.stop()

    try:
        with caplog.at_level(logging.DEBUG):
            run(scenario())
    finally:
        for receiver in receivers.values():
            receiver.stop()

    assert "failed: HTTP 500" in caplog.text  # the failures were logged...
    assert CANARY not in caplog.text and key_body not in caplog.text  # ...without secrets
    assert CANARY not in json.dumps(hub.stats())
    assert CANARY not in out.getvalue()
    for receiver in receivers.values():
        assert set(receiver.violations) <= {"bad HEC token"}  # the bad-token tenant
        assert CANARY not in json.dumps(receiver.events)
        assert any(e["details"].get("token") == "[redacted]" for e in receiver.events)
