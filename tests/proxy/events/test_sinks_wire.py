"""Each sink against its local receiver, which checks the provider's real wire format."""

from __future__ import annotations

import asyncio

import pytest

from tenant_security_proxy.events import EventHub
from tests.proxy.events.support import (
    datadog_config,
    elastic_config,
    event,
    eventually,
    fast_hub,
    gcp_config,
    run,
    seqs,
    splunk_config,
    syslog_config,
    webhook_config,
)

pytestmark = pytest.mark.services


async def _deliver(hub: EventHub, config: dict, count: int, receiver) -> None:
    await hub.start()
    hub.configure_tenant("tenant-a", config)
    for i in range(count):
        hub.emit("tenant-a", event(i))
    await eventually(lambda: len(receiver.events) >= count)
    await hub.stop()


def _check_delivered(receiver, count: int, hub: EventHub) -> None:
    assert receiver.violations == []
    assert seqs(receiver.events) == list(range(count))
    assert {e["tenant_id"] for e in receiver.events} == {"tenant-a"}
    stats = hub.stats()["tenant-a"]
    assert stats["delivered"] == count and stats["queued"] == 0 and stats["dropped"] == 0


def test_splunk_hec_sink_posts_newline_separated_hec_events_with_splunk_auth(splunk, tls):
    hub = fast_hub()
    run(
        _deliver(
            hub, splunk_config(splunk, tls, index="security", sourcetype="opencmk"), 25, splunk
        )
    )
    _check_delivered(splunk, 25, hub)
    assert all(r["headers"]["authorization"].startswith("Splunk ") for r in splunk.requests)
    assert {m["index"] for m in splunk.metadata} == {"security"}
    assert {m["sourcetype"] for m in splunk.metadata} == {"opencmk"}
    assert splunk.metadata[0]["time"] == pytest.approx(1_714_930_605.576)


def test_splunk_hec_sink_counts_events_refused_for_a_wrong_token_as_failed(splunk, tls):
    hub = fast_hub()

    async def scenario():
        await hub.start()
        hub.configure_tenant("tenant-a", splunk_config(splunk, tls, token="wrong-token"))
        hub.emit("tenant-a", event(1))
        await eventually(lambda: hub.stats()["tenant-a"]["failed"] == 1)
        await hub.stop()

    run(scenario())
    assert splunk.events == []
    assert hub.stats()["tenant-a"]["last_error"] == "HTTP 403"
    assert len(splunk.requests) == 1  # a 403 is final: no retry storm against a bad token


def test_gcp_cloud_logging_sink_exchanges_a_signed_jwt_and_writes_entries(gcp, tls):
    hub = fast_hub()
    run(_deliver(hub, gcp_config(gcp, tls), 15, gcp))
    _check_delivered(gcp, 15, hub)
    token_requests = [r for r in gcp.requests if r["path"] == "/token"]
    assert len(token_requests) == 1  # the access token is cached across batches
    assert gcp.entries[0]["insertId"] == gcp.entries[0]["jsonPayload"]["event_id"]


def test_gcp_cloud_logging_sink_fetches_a_new_token_after_a_401(gcp, tls):
    hub = fast_hub()

    async def scenario():
        await hub.start()
        hub.configure_tenant("tenant-a", gcp_config(gcp, tls))
        hub.emit("tenant-a", event(0))
        await eventually(lambda: len(gcp.events) == 1)
        gcp.revoke_tokens()
        hub.emit("tenant-a", event(1))
        await eventually(lambda: len(gcp.events) == 2)
        await hub.stop()

    run(scenario())
    assert seqs(gcp.events) == [0, 1]
    assert len([r for r in gcp.requests if r["path"] == "/token"]) == 2
    assert gcp.violations == ["missing or unknown bearer token"]  # the one refused write


def test_elastic_sink_bulk_indexes_ndjson_create_actions_with_api_key(elastic, tls):
    hub = fast_hub()
    run(_deliver(hub, elastic_config(elastic, tls), 12, elastic))
    _check_delivered(elastic, 12, hub)
    assert set(elastic.docs) == {e["event_id"] for e in elastic.events}


def test_elastic_sink_uses_basic_auth_when_given_username_and_password(tls):
    from tests.fakes.log_receivers import ElasticReceiver

    receiver = ElasticReceiver(tls, index="logs", auth="Basic ZWxhc3RpYzpjaGFuZ2VtZQ==").start()
    try:
        config = {
            "provider": "elastic",
            "url": receiver.url,
            "index": "logs",
            "username": "elastic",
            "password": "changeme",
            "ca_cert": tls.ca_pem,
        }
        hub = fast_hub()
        run(_deliver(hub, config, 3, receiver))
        _check_delivered(receiver, 3, hub)
    finally:
        receiver.stop()


def test_elastic_sink_counts_documents_the_cluster_rejects_and_keeps_the_rest(elastic, tls):
    elastic.reject_actions.add("CUSTOM_BAD_MAPPING")
    hub = fast_hub()

    async def scenario():
        await hub.start()
        hub.configure_tenant("tenant-a", elastic_config(elastic, tls))
        hub.emit("tenant-a", event(0))
        hub.emit("tenant-a", event(1, name="CUSTOM_BAD_MAPPING"))
        hub.emit("tenant-a", event(2))
        await eventually(lambda: hub.stats()["tenant-a"]["failed"] == 1)
        await hub.stop()

    run(scenario())
    assert seqs(elastic.events) == [0, 2]
    assert hub.stats()["tenant-a"]["delivered"] == 2


def test_datadog_sink_posts_gzipped_json_array_with_dd_api_key(datadog, tls):
    hub = fast_hub()
    run(_deliver(hub, datadog_config(datadog, tls, service="billing"), 20, datadog))
    _check_delivered(datadog, 20, hub)
    assert set(datadog.encodings) == {"gzip"}
    assert {log["service"] for log in datadog.logs} == {"billing"}
    assert "tenant_id:tenant-a" in datadog.logs[0]["ddtags"]


def test_datadog_sink_can_send_uncompressed(datadog, tls):
    hub = fast_hub()
    run(_deliver(hub, datadog_config(datadog, tls, gzip=False), 3, datadog))
    _check_delivered(datadog, 3, hub)
    assert set(datadog.encodings) == {None}


def test_webhook_sink_signs_timestamp_and_body_with_hmac_sha256(webhook, tls):
    hub = fast_hub()
    run(_deliver(hub, webhook_config(webhook, tls), 11, webhook))
    _check_delivered(webhook, 11, hub)
    assert len(webhook.batches) == 2  # batch_size 10
    assert all(b["tenant_id"] == "tenant-a" for b in webhook.batches.values())


def test_webhook_receiver_rejects_a_batch_signed_with_another_secret(webhook, tls):
    hub = fast_hub()
    config = {**webhook_config(webhook, tls), "secret": "another-secret-0123456789"}

    async def scenario():
        await hub.start()
        hub.configure_tenant("tenant-a", config)
        hub.emit("tenant-a", event(0))
        await eventually(lambda: hub.stats()["tenant-a"]["failed"] == 1)
        await hub.stop()

    run(scenario())
    assert webhook.events == [] and webhook.violations == ["signature"]


def test_webhook_resends_a_retried_batch_under_the_same_batch_id(webhook, tls):
    webhook.fail_next(2, status=502)
    hub = fast_hub()
    run(_deliver(hub, webhook_config(webhook, tls), 4, webhook))
    ids = [r["headers"]["x-opencmk-batch"] for r in webhook.requests]
    assert len(ids) == 3 and len(set(ids)) == 1
    _check_delivered(webhook, 4, hub)


def test_syslog_sink_sends_rfc5424_octet_counted_frames_over_tls(syslog, tls):
    hub = fast_hub()
    run(_deliver(hub, syslog_config(syslog, tls), 13, syslog))
    _check_delivered(syslog, 13, hub)
    first = syslog.messages[0]
    assert first["pri"] == "110" and first["app"] == "opencmk-tsp"
    assert first["msgid"] == "CUSTOM_TEST_EVENT" and first["bom"] is True
    assert first["ts"] == "2024-05-05T17:36:45.576Z"
    assert first["sd"]["opencmk@32473"]["tenant"] == "tenant-a"


def test_syslog_sink_escapes_structured_data_values(syslog, tls):
    hub = fast_hub()

    async def scenario():
        await hub.start()
        hub.configure_tenant('weird"]\\tenant', syslog_config(syslog, tls))
        hub.emit('weird"]\\tenant', event(0))
        await eventually(lambda: len(syslog.messages) == 1)
        await hub.stop()

    run(scenario())
    assert syslog.violations == []
    assert syslog.messages[0]["sd"]["opencmk@32473"]["tenant"] == 'weird"]\\tenant'


def test_syslog_sink_reconnects_after_the_server_drops_the_connection(syslog, tls):
    hub = fast_hub()

    async def scenario():
        await hub.start()
        hub.configure_tenant("tenant-a", syslog_config(syslog, tls))
        hub.emit("tenant-a", event(0))
        await eventually(lambda: len(syslog.events) == 1)
        syslog.drop_connections()
        await asyncio.sleep(0.3)  # let the close reach the client
        for i in range(1, 4):
            hub.emit("tenant-a", event(i))
        await eventually(lambda: len(syslog.events) == 4)
        await hub.stop()

    run(scenario())
    assert seqs(syslog.events) == [0, 1, 2, 3]
    assert syslog.violations == []


def test_syslog_sink_refuses_a_server_certificate_from_another_ca(syslog, tls):
    from tests.fakes.log_receivers import Tls

    hub = fast_hub()
    config = {**syslog_config(syslog, tls), "ca_cert": Tls().ca_pem}

    async def scenario():
        await hub.start()
        hub.configure_tenant("tenant-a", config)
        hub.emit("tenant-a", event(0))
        await eventually(lambda: hub.stats()["tenant-a"]["send_errors"] >= 1)
        await hub.stop(timeout_s=0.2)

    run(scenario())
    assert syslog.events == []
    assert hub.stats()["tenant-a"]["dropped"] == 1  # undelivered at shutdown, counted
