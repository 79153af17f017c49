"""events/kms_fields: non-secret key identities and the delivery-time L-12 enrichment."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tenant_security_proxy.events.kms_fields import KmsEnricher, key_identity

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
    details = enrich("acme", _raw(result="failure", error_code=208))["details"]
    assert (details["kms_config_id"], details["key_id"], details["algorithm"]) == (
        7,
        "projects/p",
        "GOOGLE_SYMMETRIC_ENCRYPTION",
    )
    assert details["result"] == "failure" and details["error_code"] == 208
    assert details["latency_ms"] == 1.5


def test_an_event_of_a_tenant_removed_before_delivery_keeps_its_facts():
    enrich = KmsEnricher(SimpleNamespace(tenants={}))
    details = enrich("acme", _raw("KMS_UNWRAP", kms_config_id=3, leased=False))["details"]
    assert details["kms_config_id"] == 3 and details["provider"] is None
    assert details["operation"] == "Unwrap" and details["leased"] is False
    assert details["encryption_context"] == {"tenantId": "acme"}


def test_events_that_are_not_per_request_key_operations_pass_unchanged():
    enrich = KmsEnricher(_state())
    leased = {"event": "LEASED_KEY_CREATED", "source": "proxy", "details": {"leased_key_id": 1}}
    client = _raw() | {"source": "client"}
    assert enrich("acme", leased) is leased
    assert enrich("acme", client) is client
