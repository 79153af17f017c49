"""EventHub delivery policy: batching, retry and order, bounded queues, shutdown, routing."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest

from tenant_security_proxy.events import EventHub, SinkConfigError, names
from tenant_security_proxy.metrics import REGISTRY
from tests.fakes.log_receivers import WebhookReceiver, free_port
from tests.proxy.events.support import (
    WEBHOOK_SECRET,
    event,
    eventually,
    fast_hub,
    run,
    seqs,
    webhook_config,
)


def _metric(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_it_batches_many_events_into_few_requests(webhook, tls):
    hub = fast_hub(batch_size=50, flush_interval_s=0.05)

    async def scenario():
        await hub.start()
        hub.configure_tenant("tenant-a", webhook_config(webhook, tls))
        for i in range(200):
            hub.emit("tenant-a", event(i))
        await eventually(lambda: len(webhook.events) == 200)
        await hub.stop()

    run(scenario())
    assert len(webhook.requests) == 4
    assert seqs(webhook.events) == list(range(200))


def test_it_flushes_a_partial_batch_after_the_interval(webhook, tls):
    hub = fast_hub(batch_size=100, flush_interval_s=0.3)

    async def scenario():
        await hub.start()
        hub.configure_tenant("tenant-a", webhook_config(webhook, tls))
        hub.emit("tenant-a", event(0))
        hub.emit("tenant-a", event(1))
        for _ in range(5):
            await asyncio.sleep(0)
        assert webhook.requests == []  # still waiting for more events
        await eventually(lambda: len(webhook.events) == 2, timeout=2)
        await hub.stop()

    run(scenario())
    assert len(webhook.requests) == 1


def test_it_retries_after_5xx_and_loses_nothing_in_order(webhook, tls):
    webhook.fail_next(3, status=503)
    hub = fast_hub(batch_size=5)

    async def scenario():
        await hub.start()
        hub.configure_tenant("tenant-a", webhook_config(webhook, tls))
        for i in range(23):
            hub.emit("tenant-a", event(i))
        await eventually(lambda: len(webhook.events) == 23)
        await hub.stop()

    run(scenario())
    assert seqs(webhook.events) == list(range(23))
    stats = hub.stats()["tenant-a"]
    assert stats["send_errors"] == 3 and stats["delivered"] == 23 and stats["failed"] == 0
    assert stats["last_error"] is None


def test_it_retries_while_the_receiver_is_down_and_delivers_when_it_comes_up(tls):
    port = free_port()
    receiver = WebhookReceiver(tls, WEBHOOK_SECRET)
    receiver.port = port
    hub = fast_hub(batch_size=4)

    async def scenario():
        await hub.start()
        hub.configure_tenant("tenant-a", webhook_config(receiver, tls))
        for i in range(10):
            hub.emit("tenant-a", event(i))
        await eventually(lambda: hub.stats()["tenant-a"]["send_errors"] >= 2)
        assert "connection error" in hub.stats()["tenant-a"]["last_error"]
        receiver.start(port)
        for i in range(10, 15):
            hub.emit("tenant-a", event(i))
        await eventually(lambda: len(receiver.events) == 15)
        await hub.stop()

    try:
        run(scenario())
    finally:
        receiver.stop()
    assert seqs(receiver.events) == list(range(15))
    assert receiver.violations == []


def test_a_full_queue_drops_new_events_counts_them_and_reports_a_warning_event(tls, caplog):
    port = free_port()
    receiver = WebhookReceiver(tls, WEBHOOK_SECRET)
    receiver.port = port
    hub = fast_hub(max_queue_per_tenant=20, batch_size=5)
    tenant = "tenant-drop"
    before = _metric("tsp_events_dropped_total", tenant=tenant)

    async def scenario():
        await hub.start()
        hub.configure_tenant(tenant, webhook_config(receiver, tls))
        with caplog.at_level(logging.WARNING, logger="tenant_security_proxy.events"):
            for i in range(35):
                hub.emit(tenant, event(i, tenant_id=tenant))
        assert hub.stats()[tenant]["dropped"] == 15
        assert hub.stats()[tenant]["queued"] == 20
        assert _metric("tsp_events_queued", tenant=tenant) == 20
        receiver.start(port)
        await eventually(lambda: len(receiver.events) == 21)
        await hub.stop()

    try:
        run(scenario())
    finally:
        receiver.stop()
    assert _metric("tsp_events_dropped_total", tenant=tenant) - before == 15
    assert seqs(receiver.events[:20]) == list(range(20))  # the oldest are kept, in order
    warning = receiver.events[20]
    assert warning["event"] == names.EVENTS_DROPPED and warning["source"] == "proxy"
    assert warning["details"]["count"] == 15 and warning["details"]["reason"] == "queue_full"
    assert any("is full" in r.getMessage() for r in caplog.records)


def test_emit_never_raises_and_never_waits_even_when_the_sink_is_down(tls):
    hub = fast_hub(max_queue_per_tenant=10)
    receiver = WebhookReceiver(tls, WEBHOOK_SECRET)
    receiver.port = free_port()  # nothing listens there

    async def scenario():
        await hub.start()
        hub.configure_tenant("tenant-a", webhook_config(receiver, tls))
        loop = asyncio.get_running_loop()
        started = loop.time()
        for i in range(5000):
            hub.emit("tenant-a", event(i))
        assert loop.time() - started < 1.0
        await hub.stop(timeout_s=0.1)

    run(scenario())
    assert hub.stats()["tenant-a"]["dropped"] == 5000  # 4990 when full, 10 at shutdown


def test_a_malformed_event_is_counted_as_failed_and_does_not_stop_delivery():
    out = io.StringIO()
    hub = fast_hub(stdout=out)

    async def scenario():
        await hub.start()
        hub.emit("tenant-a", event(0))
        hub.emit("tenant-a", object())  # type: ignore[arg-type]
        hub.emit("tenant-a", event(1))
        await eventually(lambda: out.getvalue().count("\n") == 2)
        await hub.stop()

    run(scenario())
    assert seqs([json.loads(line) for line in out.getvalue().splitlines()]) == [0, 1]
    assert hub.stats()["tenant-a"]["failed"] == 1


def test_stop_flushes_pending_events_without_waiting_for_the_interval(webhook, tls):
    hub = fast_hub(batch_size=1000, flush_interval_s=60)

    async def scenario():
        await hub.start()
        hub.configure_tenant("tenant-a", webhook_config(webhook, tls))
        for i in range(7):
            hub.emit("tenant-a", event(i))
        loop = asyncio.get_running_loop()
        started = loop.time()
        await hub.stop()
        assert loop.time() - started < 2

    run(scenario())
    assert seqs(webhook.events) == list(range(7))


def test_stop_counts_what_it_could_not_deliver_by_the_deadline_as_dropped(tls):
    receiver = WebhookReceiver(tls, WEBHOOK_SECRET)
    receiver.port = free_port()
    hub = fast_hub()

    async def scenario():
        await hub.start()
        hub.configure_tenant("tenant-a", webhook_config(receiver, tls))
        for i in range(3):
            hub.emit("tenant-a", event(i))
        await hub.stop(timeout_s=0.2)

    run(scenario())
    stats = hub.stats()["tenant-a"]
    assert stats["dropped"] == 3 and stats["queued"] == 0 and stats["delivered"] == 0


def test_events_emitted_before_start_are_delivered_after_start(webhook, tls):
    hub = fast_hub()
    hub.configure_tenant("tenant-a", webhook_config(webhook, tls))
    for i in range(3):
        hub.emit("tenant-a", event(i))

    async def scenario():
        await hub.start()
        await eventually(lambda: len(webhook.events) == 3)
        await hub.stop()

    run(scenario())
    assert seqs(webhook.events) == [0, 1, 2]


def test_a_tenant_without_logging_config_gets_stdout_json_lines():
    out = io.StringIO()
    hub = fast_hub(stdout=out)

    async def scenario():
        await hub.start()
        hub.configure_tenant("tenant-a", None)
        hub.emit("tenant-a", event(0))
        hub.emit("never-configured", event(1, tenant_id="never-configured"))
        hub.emit("tenant-a", {"event": "KMS_WRAP", "details": {"text": "line\nbreak"}})
        await eventually(lambda: out.getvalue().count("\n") == 3)
        await hub.stop()

    run(scenario())
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 3  # a newline inside a field never splits a record
    by_event = {(line["tenant_id"], line["event"]) for line in lines}
    assert by_event == {
        ("tenant-a", "CUSTOM_TEST_EVENT"),
        ("never-configured", "CUSTOM_TEST_EVENT"),
        ("tenant-a", "KMS_WRAP"),
    }
    enriched = next(line for line in lines if line["event"] == "KMS_WRAP")
    assert enriched["source"] == "proxy" and enriched["event_id"] and enriched["timestamp"]
    assert hub.stats()["tenant-a"]["sink"] == "stdout"


def test_the_queue_tenant_id_wins_over_a_tenant_id_inside_the_event():
    out = io.StringIO()
    hub = fast_hub(stdout=out)

    async def scenario():
        await hub.start()
        hub.emit("tenant-a", {"event": "KMS_WRAP", "tenant_id": "tenant-b"})
        await eventually(lambda: "\n" in out.getvalue())
        await hub.stop()

    run(scenario())
    assert json.loads(out.getvalue())["tenant_id"] == "tenant-a"


def test_tenants_are_isolated_a_dead_sink_does_not_delay_another_tenant(webhook, tls):
    dead = WebhookReceiver(tls, WEBHOOK_SECRET)
    dead.port = free_port()
    hub = fast_hub()

    async def scenario():
        await hub.start()
        hub.configure_tenant("tenant-dead", webhook_config(dead, tls))
        hub.configure_tenant("tenant-a", webhook_config(webhook, tls))
        for i in range(30):
            hub.emit("tenant-dead", event(i, tenant_id="tenant-dead"))
            hub.emit("tenant-a", event(i))
        await eventually(lambda: len(webhook.events) == 30)
        await hub.stop(timeout_s=0.1)

    run(scenario())
    assert {e["tenant_id"] for e in webhook.events} == {"tenant-a"}


def test_reconfiguring_a_tenant_moves_delivery_to_the_new_sink(webhook, splunk, tls):
    from tests.proxy.events.support import splunk_config

    hub = fast_hub()

    async def scenario():
        await hub.start()
        hub.configure_tenant("tenant-a", webhook_config(webhook, tls))
        hub.emit("tenant-a", event(0))
        await eventually(lambda: len(webhook.events) == 1)
        hub.configure_tenant("tenant-a", splunk_config(splunk, tls))
        hub.emit("tenant-a", event(1))
        await eventually(lambda: len(splunk.events) == 1)
        await hub.stop()

    run(scenario())
    assert seqs(webhook.events) == [0] and seqs(splunk.events) == [1]
    assert hub.stats()["tenant-a"]["sink"] == "splunk-hec"


def test_an_invalid_config_raises_and_keeps_the_previous_sink(webhook, tls):
    hub = fast_hub()
    hub.configure_tenant("tenant-a", webhook_config(webhook, tls))
    with pytest.raises(SinkConfigError):
        hub.configure_tenant("tenant-a", {"provider": "splunk-hec", "url": "https://x"})
    assert hub.stats()["tenant-a"]["sink"] == "webhook"
    run(hub.stop())


def test_removing_a_tenant_still_delivers_what_it_had_queued(webhook, tls):
    hub = fast_hub(flush_interval_s=30)

    async def scenario():
        await hub.start()
        hub.configure_tenant("tenant-a", webhook_config(webhook, tls))
        hub.emit("tenant-a", event(0))
        hub.remove_tenant("tenant-a")
        await eventually(lambda: len(webhook.events) == 1)
        await eventually(lambda: "tenant-a" not in hub.stats())
        await hub.stop()

    run(scenario())


def test_an_event_emitted_right_after_removal_still_reaches_the_tenants_sink(webhook, tls):
    out = io.StringIO()
    hub = fast_hub(stdout=out)

    async def scenario():
        await hub.start()
        hub.configure_tenant("tenant-a", webhook_config(webhook, tls))
        hub.remove_tenant("tenant-a")
        hub.emit("tenant-a", {"event": names.CONFIG_REMOVED, "details": {"reason": "revoked"}})
        assert hub.stats()["tenant-a"]["draining"] is True
        await eventually(lambda: "tenant-a" not in hub.stats())
        assert len(webhook.events) == 1
        hub.emit("tenant-a", event(1))  # after the drain: an unknown tenant, so stdout
        await eventually(lambda: "\n" in out.getvalue())
        await hub.stop()

    run(scenario())
    assert webhook.events[0]["event"] == names.CONFIG_REMOVED
    assert json.loads(out.getvalue())["custom_fields"]["seq"] == "1"


def test_configuring_a_tenant_again_while_it_drains_keeps_its_queue_in_order(webhook, tls):
    hub = fast_hub(flush_interval_s=30)
    hub.configure_tenant("tenant-a", webhook_config(webhook, tls))
    hub.emit("tenant-a", event(0))
    hub.remove_tenant("tenant-a")
    hub.configure_tenant("tenant-a", webhook_config(webhook, tls))
    hub.emit("tenant-a", event(1))

    async def scenario():
        await hub.start()
        await hub.stop()

    run(scenario())
    assert seqs(webhook.events) == [0, 1] and len(webhook.requests) == 1


def test_metrics_count_delivered_events_per_tenant_and_sink(webhook, tls):
    hub = fast_hub()
    tenant = "tenant-metrics"
    before = _metric("tsp_events_delivered_total", tenant=tenant, sink="webhook")

    async def scenario():
        await hub.start()
        hub.configure_tenant(tenant, webhook_config(webhook, tls))
        for i in range(12):
            hub.emit(tenant, event(i, tenant_id=tenant))
        await eventually(lambda: len(webhook.events) == 12)
        await hub.stop()

    run(scenario())
    assert _metric("tsp_events_delivered_total", tenant=tenant, sink="webhook") - before == 12
    assert _metric("tsp_event_send_seconds_count", sink="webhook") >= 2


def test_it_rejects_nonsensical_hub_settings():
    with pytest.raises(ValueError):
        EventHub(max_queue_per_tenant=0)


def test_idle_tenants_hold_no_delivery_task():
    out = io.StringIO()
    hub = fast_hub(stdout=out)

    async def scenario():
        await hub.start()
        baseline = len(asyncio.all_tasks())
        for i in range(50):
            hub.emit(f"tenant-{i}", event(i, tenant_id=f"tenant-{i}"))
        assert len(asyncio.all_tasks()) == baseline + 50  # one per tenant with pending events
        await eventually(lambda: out.getvalue().count("\n") == 50)
        await eventually(lambda: len(asyncio.all_tasks()) == baseline)
        await hub.stop()

    run(scenario())


def test_emit_threadsafe_hands_events_from_worker_threads_to_the_loop():
    out = io.StringIO()
    hub = fast_hub(stdout=out)

    async def scenario():
        await hub.start()
        await asyncio.gather(
            *(asyncio.to_thread(hub.emit_threadsafe, "tenant-a", event(i)) for i in range(20))
        )
        await eventually(lambda: out.getvalue().count("\n") == 20)
        await hub.stop()

    run(scenario())
    assert sorted(seqs([json.loads(line) for line in out.getvalue().splitlines()])) == list(
        range(20)
    )
