"""The batch-time helpers of the event pipeline keep the exact formats of the slow versions."""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid

from tenant_security_proxy.events import model, names
from tenant_security_proxy.events.sinks.base import dumps, dumps_bytes


def _reference_rfc3339_ms(epoch: float) -> str:
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def test_cached_timestamp_formatting_matches_datetime_everywhere():
    rng = random.Random(7)
    epochs = [rng.uniform(0, 4e9) for _ in range(20_000)]
    epochs += [1714930605.9999996, 1714930605.0, 1714930605.0004999, 1714930606.9995]
    for epoch in epochs:
        assert model.rfc3339_ms(epoch) == _reference_rfc3339_ms(epoch), epoch


def test_batch_event_ids_are_distinct_rfc4122_version_4_uuids():
    ids = model.event_ids(500)
    assert len(set(ids)) == 500
    for text in ids:
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == text


def test_scrub_redacts_secret_keys_at_any_depth_and_bytes_anywhere():
    value = {"ok": 1, "Client_Secret": "s", "list": [{"token": "t"}, b"raw"], 7: {"dek": "x"}}
    assert model.scrub(value) == {
        "ok": 1,
        "Client_Secret": "[redacted]",
        "list": [{"token": "[redacted]"}, "[redacted]"],
        "7": {"dek": "[redacted]"},
    }


def test_the_secret_key_verdict_cache_is_bounded_and_stays_correct_past_it():
    for i in range(model._SECRET_KEY_CACHE_MAX + 100):
        model.scrub({f"field_{i}": 1})
    assert len(model._secret_key_cache) <= model._SECRET_KEY_CACHE_MAX
    assert model.scrub({"never_seen_password_field": "p"}) == {
        "never_seen_password_field": "[redacted]"
    }


def test_event_json_is_one_line_and_parses_back_to_the_event():
    event = {"event": "X", "details": {"note": "a\nb\x00c\u2603", "n": 1.5, "none": None}}
    raw = dumps_bytes(event)
    assert b"\n" not in raw and json.loads(raw) == event
    assert dumps(event) == raw.decode()


def test_event_json_falls_back_for_what_orjson_refuses():
    event = {"big": 2**70, 3: "non-string key", "obj": object}
    parsed = json.loads(dumps_bytes(event))
    assert parsed["big"] == 2**70 and parsed["3"] == "non-string key"
    assert parsed["obj"] == str(object)


def test_every_event_name_the_proxy_emits_is_a_known_proxy_event():
    emitted = {
        "KMS_CACHED_KEY_OPERATIONS",
        "CONFIG_REMOVED",
        "CONFIG_STALE",
        "PROXY_SEALED",
        "LOGGING_CONFIG_REJECTED",
    }
    assert emitted <= names.PROXY_EVENTS
    for name in emitted:
        assert model.proxy_event(tenant_id="t", event=name, details={})["event"] == name
