"""events/kms_fields: non-secret key identities and the delivery-time L-12 enrichment."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tenant_security_proxy.events import model
from tenant_security_proxy.events.kms_fields import (
    ALGORITHMS,
    REASON_CODE,
    KmsEnricher,
    config_event_fields,
    key_identity,
    latency_ms,
)
from tenant_security_proxy.events.sinks.base import dumps_bytes, dumps_line
from tenant_security_proxy.state import ConfigRuntime
from tests.fakes.broker import KmsSpec

SECRETS = {
    "secret_access_key": "CANARY-1",
    "access_key_id": "CANARY-2",
    "client_secret": "CANARY-3",
    "token": "CANARY-4",
    "secret_id": "CANARY-5",
    "service_account": {"private_key": "CANARY-6"},
    "key": "CANARY-7",
}


@pytest.mark.parametrize(
    ("provider", "config", "expected"),
    [
        ("aws-kms", {"key_arn": "arn:aws:kms:eu-west-1:1:key/k"}, "arn:aws:kms:eu-west-1:1:key/k"),
        ("aws-kms", {"key_id": "k-1", "region": "eu-west-1"}, "k-1"),
        (
            "gcp-kms",
            {"project_id": "p", "location_id": "l", "key_ring_id": "r", "crypto_key_id": "c"},
            "projects/p/locations/l/keyRings/r/cryptoKeys/c",
        ),
        (
            "azure-key-vault",
            {"vault_url": "https://u:CANARY-8@v.vault.azure.net/", "key_name": "k"},
            "https://v.vault.azure.net/keys/k",
        ),
        (
            "vault-transit",
            {"address": "https://u:CANARY-9@vault", "key_name": "k"},
            "transit/keys/k",
        ),
        ("local-test", {"key": "CANARY-7"}, None),
        ("gcp-kms", {"project_id": "p"}, None),
    ],
)
def test_key_identity_names_the_key_location_and_never_a_credential(provider, config, expected):
    identity = key_identity(provider, config | SECRETS)
    assert identity == expected
    assert "CANARY" not in (identity or "")


def test_key_identity_of_a_disabled_config_without_plaintext_is_unknown():
    assert key_identity("aws-kms", None) is None


def _state(**configs):
    tenant = SimpleNamespace(configs=configs, primary=next(iter(configs.values()), None))
    return SimpleNamespace(tenants={"acme": tenant})


def _raw(name="KMS_WRAP", **details):
    return {
        "event": name,
        "source": "proxy",
        "icl_fields": {"requestingId": "alice"},
        "details": {"result": "success", "latency_s": 0.0015} | details,
    }


def test_a_failed_wrap_is_attributed_to_the_primary_config():
    config = SimpleNamespace(config_id=7, provider="gcp-kms", key_id="projects/p")
    enrich = KmsEnricher(_state(c7=config))
    details = enrich("acme", 0.0, _raw(result="failure", error_code=208), "id-1")["details"]
    assert (details["kms_config_id"], details["key_id"], details["algorithm"]) == (
        7,
        "projects/p",
        "GOOGLE_SYMMETRIC_ENCRYPTION",
    )
    assert details["result"] == "failure" and details["error_code"] == 208
    assert details["latency_ms"] == 1.5


def test_an_event_of_a_tenant_removed_before_delivery_keeps_its_facts():
    enrich = KmsEnricher(SimpleNamespace(tenants={}))
    details = enrich("acme", 0.0, _raw("KMS_UNWRAP", kms_config_id=3, leased=False), "i")["details"]
    assert details["kms_config_id"] == 3 and details["provider"] is None
    assert details["operation"] == "Unwrap" and details["leased"] is False
    assert details["encryption_context"] == {"tenantId": "acme"}


def test_events_that_are_not_per_request_key_operations_are_left_to_finalize():
    enrich = KmsEnricher(_state())
    leased = {"event": "LEASED_KEY_CREATED", "source": "proxy", "details": {"leased_key_id": 1}}
    client = _raw() | {"source": "client"}
    stamped = _raw() | {"event_id": "caller-chosen"}
    for event in (leased, client, stamped):
        assert enrich("acme", 0.0, event, "i") is None


def _reference_finish(tenant_id, at, event, event_id, config):
    """The enrichment as it was before the per-config precomputation (commit 458af11): derive
    every field per event, then the generic `finalize` copies and scrubs all of `details`."""
    raw = event["details"]
    provider = getattr(config, "provider", None)
    details = {
        "operation": model.KMS_OPERATIONS[event["event"]],
        "kms_config_id": getattr(config, "config_id", raw.get("kms_config_id")),
        "provider": provider,
        "key_id": getattr(config, "key_id", None),
        "algorithm": ALGORITHMS.get(provider or ""),
        "encryption_context": {"tenantId": tenant_id},
        "caller_id": (event.get("icl_fields") or {}).get("requestingId"),
        "reason_code": REASON_CODE,
        "result": raw.get("result", "success"),
        "error_code": raw.get("error_code"),
        "latency_ms": round(float(raw["latency_s"]) * 1000, 3),
    }
    for key, value in raw.items():
        if key not in ("latency_s", "kms_config_id"):
            details.setdefault(key, value)
    return model.finalize(tenant_id, at, {**event, "details": details}, event_id)


PROVIDER_CONFIGS = {
    "aws-kms": {"key_arn": "arn:aws:kms:eu-west-1:1:key/k"},
    "gcp-kms": {"project_id": "p", "location_id": "l", "key_ring_id": "r", "crypto_key_id": "c"},
    "azure-key-vault": {"vault_url": "https://v.vault.azure.net/", "key_name": "k"},
    "vault-transit": {"mount": "kv2", "key_name": "k"},
    "local-test": {},
}


@pytest.mark.parametrize("provider", sorted(PROVIDER_CONFIGS))
@pytest.mark.parametrize("name", ["KMS_WRAP", "KMS_UNWRAP", "KMS_REKEY", "KMS_DERIVE"])
def test_precomputed_config_fields_give_the_event_the_old_derivation_gave(provider, name):
    key_id = key_identity(provider, PROVIDER_CONFIGS[provider] | SECRETS)
    config = ConfigRuntime(9, provider, "primary", "digest", key_id=key_id)
    config.event_fields = config_event_fields("acme", 9, provider, key_id)
    enrich = KmsEnricher(_state(c9=config))
    enrich._state.tenants["acme"].configs = {9: config}
    extras = {"leased": True, "batch": 3, "failed": 1, "nested": {"token": "CANARY-0"}}
    raw = _raw(name, kms_config_id=9, error_code=None, **extras)
    event = {  # in the order api._emit builds it
        "event": name,
        "tenant_id": "acme",
        "source": "proxy",
        "icl_fields": raw["icl_fields"],
        "custom_fields": {"ticket": "T-1"},
        "details": raw["details"],
    }
    at = 1_764_350_000.1234
    finished = enrich("acme", at, event, "3f0a6b1e-0000-4000-8000-000000000000")
    expected = _reference_finish("acme", at, event, "3f0a6b1e-0000-4000-8000-000000000000", config)
    assert finished == expected
    assert dumps_line(finished) == dumps_bytes(expected) + b"\n"  # same bytes for every sink
    assert finished["details"]["nested"] == {"token": "[redacted]"}
    assert "CANARY" not in dumps_bytes(finished).decode()


def test_config_event_fields_are_what_the_loader_gives_each_config(harness):
    from tests.proxy.conftest import run
    from tests.proxy.localkms import local_config

    harness.broker.put_bundle(harness.world.bundle("acme", 1, [KmsSpec(local_config())]))
    runtime = harness.runtime()
    run(runtime.syncer.sync_once())
    [config] = runtime.state.tenants["acme"].configs.values()
    assert config.event_fields == config_event_fields(
        "acme", config.config_id, config.provider, config.key_id
    )
    assert config.event_fields["encryption_context"] == {"tenantId": "acme"}


@pytest.mark.parametrize("seconds", [0.0, 0.0015, 0.000_123_4, 1.234_567_8, 12.0, 3e-7])
def test_latency_ms_is_milliseconds_to_the_microsecond(seconds):
    assert latency_ms(seconds) == round(seconds * 1000, 3)
