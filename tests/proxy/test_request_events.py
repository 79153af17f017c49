"""Security events of wrap/unwrap through the real API and EventHub: the request path emits raw
facts, the delivery task adds id, timestamp and scrubbing; nothing is lost on the way."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
import uuid

from tenant_security_proxy.edek import EncryptedDek, encode_edek_b64
from tenant_security_proxy.events import model
from tests.fakes.broker import KmsSpec
from tests.fixtures.proxy import API_KEY
from tests.proxy.conftest import run
from tests.proxy.events.support import eventually, fast_hub
from tests.proxy.helpers import asgi_call
from tests.proxy.localkms import LocalKms, local_config

AUTH = [(b"authorization", f"cmk {API_KEY}".encode())]
META = {
    "tenantId": "acme",
    "iclFields": {"requestingId": "alice", "dataLabel": "PII", "requestId": "r-1"},
    "customFields": {"ticket": "T-9"},
}


def _lines(stdout: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stdout.getvalue().splitlines()]


KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
AWS_SECRET = "CANARY-aws-secret-access-key"
L12_FIELDS = {
    "operation",
    "kms_config_id",
    "provider",
    "key_id",
    "algorithm",
    "encryption_context",
    "caller_id",
    "reason_code",
    "result",
    "error_code",
    "latency_ms",
}


def aws_config() -> dict:
    """An aws-kms config as the broker would ship it, plus the local key the fake KMS uses."""
    return local_config() | {
        "provider": "aws-kms",
        "key_arn": KEY_ARN,
        "region": "eu-west-1",
        "access_key_id": "AKIAEXAMPLE",
        "secret_access_key": AWS_SECRET,
    }


class AwsShapedKmsFactory:
    """Serves aws-kms configs with LocalKms crypto: only the provider's name and config shape
    matter to events, and a real AWS KMS cannot run in tests."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def __call__(self, config, tenant_id, config_id):
        if config.get("provider") == "aws-kms":
            return LocalKms(config | {"provider": "local-test"}, tenant_id, self.inner.calls)
        return self.inner(config, tenant_id, config_id)


def _exchange(harness, flush_interval_s: float = 0.02, config: dict | None = None):
    """Wrap then unwrap once for a leased tenant; returns (events, answers, emit window)."""
    harness.kms = AwsShapedKmsFactory(harness.kms)
    harness.broker.put_bundle(
        harness.world.bundle("acme", 1, [KmsSpec(config or local_config())], leasing=True)
    )
    stdout = io.StringIO()
    harness.hub = fast_hub(stdout=stdout, flush_interval_s=flush_interval_s)
    runtime = harness.runtime()

    async def go():
        await harness.hub.start()
        await runtime.syncer.sync_once()
        before = time.time()
        _, wrapped = await asgi_call(runtime.api, "POST", "/api/1/document/wrap", META, AUTH)
        unwrap_body = META | {"encryptedDocumentKey": wrapped["edek"]}
        _, unwrapped = await asgi_call(
            runtime.api, "POST", "/api/1/document/unwrap", unwrap_body, AUTH
        )
        after = time.time()
        names = lambda: [e["event"] for e in _lines(stdout)]  # noqa: E731
        await eventually(lambda: "KMS_UNWRAP" in names())
        await harness.hub.stop()
        return wrapped, unwrapped, before, after

    wrapped, unwrapped, before, after = run(go())
    events = [e for e in _lines(stdout) if e["event"] in ("KMS_WRAP", "KMS_UNWRAP")]
    return events, (wrapped, unwrapped), (before, after), stdout.getvalue()


def test_every_wrap_and_unwrap_event_reaches_the_sink_with_all_fields_in_order(harness):
    events, _, _, _ = _exchange(harness)
    assert [e["event"] for e in events] == ["KMS_WRAP", "KMS_UNWRAP"]
    for event in events:
        assert set(event) == {
            "event",
            "event_id",
            "tenant_id",
            "timestamp",
            "source",
            "icl_fields",
            "custom_fields",
            "details",
        }
        assert uuid.UUID(event["event_id"]).version == 4
        assert event["tenant_id"] == "acme" and event["source"] == "proxy"
        assert event["icl_fields"] == META["iclFields"]
        assert event["custom_fields"] == {"ticket": "T-9"}
        assert event["details"]["leased"] is True
        assert isinstance(event["details"]["kms_config_id"], int)
    assert events[0]["event_id"] != events[1]["event_id"]


def test_an_event_is_stamped_with_the_time_of_its_request_not_of_its_delivery(harness):
    # Delivery waits ~0.4 s for the batch to fill; the timestamp must still be the request's.
    events, _, (before, after), _ = _exchange(harness, flush_interval_s=0.4)
    for event in events:
        stamped = model.epoch_seconds(event["timestamp"])
        assert before - 0.001 <= stamped <= after + 0.001
        assert event["timestamp"].endswith("Z") and len(event["timestamp"]) == 24


def test_no_dek_or_edek_reaches_the_sink(harness):
    _, (wrapped, unwrapped), _, raw = _exchange(harness)
    dek = base64.b64decode(wrapped["dek"])
    assert unwrapped["dek"] == wrapped["dek"]
    for secret in (wrapped["dek"], wrapped["edek"], dek.hex()):
        assert secret not in raw


def test_secret_named_details_are_scrubbed_by_the_delivery_task(harness):
    stdout = io.StringIO()
    hub = fast_hub(stdout=stdout)

    async def go():
        await hub.start()
        hub.emit(
            "acme",
            {
                "event": "KMS_WRAP",
                "details": {"dek": b"\x01" * 32, "nested": {"api_key": "CANARY-1"}, "n": 1},
            },
        )
        await eventually(lambda: bool(stdout.getvalue()))
        await hub.stop()

    asyncio.run(go())
    [event] = _lines(stdout)
    assert event["details"] == {"dek": "[redacted]", "nested": {"api_key": "[redacted]"}, "n": 1}
    assert "CANARY-1" not in stdout.getvalue()


def test_wrap_and_unwrap_events_carry_every_acceptance_l12_field(harness):
    events, _, _, _ = _exchange(harness, config=aws_config())
    assert [e["event"] for e in events] == ["KMS_WRAP", "KMS_UNWRAP"]
    for event, operation in zip(events, ("Wrap", "Unwrap"), strict=True):
        details = event["details"]
        assert set(details) >= L12_FIELDS
        assert details["operation"] == operation
        assert details["provider"] == "aws-kms" and details["algorithm"] == "SYMMETRIC_DEFAULT"
        assert details["key_id"] == KEY_ARN
        assert details["encryption_context"] == {"tenantId": "acme"}
        assert details["caller_id"] == "alice"
        assert details["reason_code"] == "CUSTOMER_INITIATED_ACCESS"
        assert details["result"] == "success" and details["error_code"] is None
        assert isinstance(details["latency_ms"], float) and 0 <= details["latency_ms"] < 5_000
        assert isinstance(details["kms_config_id"], int) and details["leased"] is True
        assert event["icl_fields"]["dataLabel"] == "PII"
        assert "latency_s" not in details


def test_l12_events_carry_no_credential_key_dek_or_edek(harness):
    config = aws_config()
    _, (wrapped, _), _, raw = _exchange(harness, config=config)
    dek = base64.b64decode(wrapped["dek"])
    for secret in (AWS_SECRET, config["key"], wrapped["dek"], wrapped["edek"], dek.hex()):
        assert secret not in raw


def test_failed_wrap_and_unwrap_events_carry_failure_and_the_error_code(harness):
    harness.kms = AwsShapedKmsFactory(harness.kms)
    broken = aws_config() | {"fail": True}
    harness.broker.put_bundle(harness.world.bundle("acme", 1, [KmsSpec(broken)]))
    stdout = io.StringIO()
    harness.hub = fast_hub(stdout=stdout)
    runtime = harness.runtime()

    async def go():
        await harness.hub.start()
        await runtime.syncer.sync_once()
        status, wrapped = await asgi_call(runtime.api, "POST", "/api/1/document/wrap", META, AUTH)
        config_id = runtime.state.tenants["acme"].primary.config_id
        edek = encode_edek_b64(EncryptedDek(b"x" * 40, config_id))
        body = META | {"encryptedDocumentKey": edek}
        _, unwrapped = await asgi_call(runtime.api, "POST", "/api/1/document/unwrap", body, AUTH)
        await eventually(lambda: "KMS_UNWRAP" in stdout.getvalue())
        await harness.hub.stop()
        return status, wrapped, unwrapped, config_id

    status, wrapped, unwrapped, config_id = run(go())
    assert status != 200 and isinstance(wrapped["code"], int)
    events = [e for e in _lines(stdout) if e["event"] in ("KMS_WRAP", "KMS_UNWRAP")]
    assert [e["event"] for e in events] == ["KMS_WRAP", "KMS_UNWRAP"]
    for event, answer in zip(events, (wrapped, unwrapped), strict=True):
        details = event["details"]
        assert set(details) >= L12_FIELDS
        assert details["result"] == "failure"
        assert details["error_code"] == answer["code"]
        assert details["kms_config_id"] == config_id and details["key_id"] == KEY_ARN
        assert details["caller_id"] == "alice"
    assert AWS_SECRET not in stdout.getvalue()
