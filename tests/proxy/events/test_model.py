"""Event builders (ACCEPTANCE L-12): CloudTrail/KAJ-like fields, never key material."""

from __future__ import annotations

import json
import re

import pytest

from tenant_security_proxy.events import client_event, kms_event, names, proxy_event
from tenant_security_proxy.events.model import finalize, rfc3339_ms, scrub

DEK = bytes(range(32))


def test_a_kms_event_carries_every_l12_field():
    ev = kms_event(
        tenant_id="tenant-a",
        event=names.KMS_UNWRAP,
        config_id=17,
        provider="aws-kms",
        key_id="arn:aws:kms:eu-west-1:111122223333:key/abcd",
        algorithm="SYMMETRIC_DEFAULT",
        result="failure",
        error_code=206,
        latency_ms=12.34567,
        icl_fields={"requestingId": "svc-billing", "requestId": "r-1", "sourceIp": None},
        custom_fields={"region": "eu"},
    )
    d = ev["details"]
    assert d["operation"] == "Unwrap" and d["config_id"] == 17
    assert d["key_id"].startswith("arn:aws:kms:") and d["algorithm"] == "SYMMETRIC_DEFAULT"
    assert d["encryption_context"] == {"tenant_id": "tenant-a"}
    assert d["caller_id"] == "svc-billing" and d["reason_code"] == "CUSTOMER_INITIATED_ACCESS"
    assert d["result"] == "failure" and d["error_code"] == 206 and d["latency_ms"] == 12.346
    assert ev["icl_fields"] == {"requestingId": "svc-billing", "requestId": "r-1"}
    assert ev["source"] == "proxy" and ev["tenant_id"] == "tenant-a" and ev["event_id"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ev["timestamp"])


def test_a_kms_event_refuses_unknown_reason_codes_and_results():
    common = dict(
        tenant_id="t", event=names.KMS_WRAP, config_id=1, provider="p", key_id="k",
        algorithm="a", latency_ms=1,
    )  # fmt: skip
    with pytest.raises(ValueError):
        kms_event(**common, result="ok")
    with pytest.raises(ValueError):
        kms_event(**common, result="success", reason_code="BECAUSE")
    with pytest.raises(ValueError):
        kms_event(**{**common, "event": "USER_LOGIN"}, result="success")


def test_client_event_uses_the_clients_timestamp_and_bounds_its_fields():
    ev = client_event(
        tenant_id="t",
        event="USER_LOGIN",
        icl_fields={"requestingId": "u" * 5000, "unknownField": "x", "dataLabel": None},
        custom_fields={f"k{i}": i for i in range(100)},
        timestamp_millis=1_714_930_605_576,
    )
    assert ev["timestamp"] == "2024-05-05T17:36:45.576Z"
    assert len(ev["icl_fields"]["requestingId"]) == 1024
    assert set(ev["icl_fields"]) == {"requestingId"}
    assert len(ev["custom_fields"]) == 64 and ev["custom_fields"]["k7"] == "7"
    assert ev["source"] == "client"


def test_scrub_redacts_secret_named_fields_and_raw_bytes_at_any_depth():
    details = {
        "config": {"provider": "vault-transit", "token": "hvs.CANARY", "nested": [{"dek": DEK}]},
        "client_secret": "CANARY",
        "blob": DEK,
        "config_id": 3,
    }
    text = json.dumps(scrub(details))
    assert "CANARY" not in text and "hvs." not in text
    assert scrub(details)["config_id"] == 3 and scrub(details)["blob"] == "[redacted]"


def test_proxy_event_scrubs_details_and_only_takes_proxy_names():
    ev = proxy_event(
        tenant_id="t", event=names.CONFIG_REJECTED, details={"reason": "bad_sig", "password": "p"}
    )
    assert ev["details"] == {"reason": "bad_sig", "password": "[redacted]"}
    with pytest.raises(ValueError):
        proxy_event(tenant_id="t", event="USER_LOGIN", details={})


def test_finalize_fills_missing_fields_and_scrubs_caller_built_details():
    out = finalize("tenant-a", 0.0, {"event": "KMS_WRAP", "details": {"dek": DEK, "leased": True}})
    assert out["timestamp"] == "1970-01-01T00:00:00.000Z" and out["source"] == "proxy"
    assert out["details"] == {"dek": "[redacted]", "leased": True}
    assert out["icl_fields"] == {} and out["custom_fields"] == {} and out["event_id"]


def test_rfc3339_ms_pads_milliseconds():
    assert rfc3339_ms(1.005) == "1970-01-01T00:00:01.005Z"
