"""Every route and error code of DESIGN.md §6.3, called in-process on the raw ASGI app."""

from __future__ import annotations

import base64
import json

import pytest

from tenant_security_proxy.edek import EncryptedDek, decode_edek_b64, encode_edek_b64
from tests.fakes.broker import KmsSpec
from tests.fixtures.proxy import API_KEY, API_KEY_2
from tests.proxy.conftest import run
from tests.proxy.helpers import asgi_call
from tests.proxy.localkms import local_config

AUTH = [(b"authorization", f"cmk {API_KEY}".encode())]


@pytest.fixture
def proxy(harness):
    """A synced runtime: acme (leasing), plain (no leasing), active-only (no primary),
    and `with-disabled` whose second config is disabled."""
    world, broker = harness.world, harness.broker
    broker.put_bundle(world.bundle("acme", 1, [KmsSpec(local_config())], leasing=True))
    broker.put_bundle(world.bundle("plain", 1, [KmsSpec(local_config())]))
    broker.put_bundle(world.bundle("active-only", 1, [KmsSpec(local_config(), "active")]))
    harness.disabled = KmsSpec(local_config(), "disabled")
    broker.put_bundle(world.bundle("with-disabled", 1, [KmsSpec(local_config()), harness.disabled]))
    runtime = harness.runtime()
    run(runtime.syncer.sync_once())
    harness.kms.calls.clear()
    return runtime


def body(tenant, **extra):
    return {"tenantId": tenant, "iclFields": {"requestingId": "alice"}, "customFields": {}} | extra


def call(runtime, route, payload, headers=AUTH):
    return run(asgi_call(runtime.api, "POST", f"/api/1/{route}", payload, headers))


def wrap(runtime, tenant):
    status, answer = call(runtime, "document/wrap", body(tenant))
    assert status == 200, answer
    return answer


# ---- wrap / unwrap / batch / rekey ---------------------------------------------------------


@pytest.mark.parametrize("tenant", ["acme", "plain"])
def test_wrap_then_unwrap_returns_the_dek(proxy, tenant):
    wrapped = wrap(proxy, tenant)
    assert len(base64.b64decode(wrapped["dek"])) == 32
    status, answer = call(
        proxy, "document/unwrap", body(tenant, encryptedDocumentKey=wrapped["edek"])
    )
    assert (status, answer) == (200, {"dek": wrapped["dek"]})


def test_leased_edek_carries_the_leased_key_and_tenant(proxy):
    edek = decode_edek_b64(wrap(proxy, "acme")["edek"])
    assert edek.leased_key_id > 0 and len(edek.leased_key_iv) == 12
    assert edek.encrypted_leased_key_data[0].kms_config_id == edek.kms_config_id
    assert edek.tenant_id == "acme"


def test_batch_wrap_and_batch_unwrap_report_per_document_failures(proxy):
    status, wrapped = call(proxy, "document/batch-wrap", body("acme", documentIds=["a", "b"]))
    assert status == 200 and set(wrapped["keys"]) == {"a", "b"} and wrapped["failures"] == {}
    edeks = {k: v["edek"] for k, v in wrapped["keys"].items()} | {"bad": "AAAA"}
    status, answer = call(proxy, "document/batch-unwrap", body("acme", edeks=edeks))
    assert status == 200
    assert {k: v["dek"] for k, v in answer["keys"].items()} == {
        k: v["dek"] for k, v in wrapped["keys"].items()
    }
    assert answer["failures"]["bad"]["code"] == 203


def test_rekey_moves_a_dek_to_another_tenant(proxy):
    wrapped = wrap(proxy, "acme")
    status, rekeyed = call(
        proxy,
        "document/rekey",
        body("acme", encryptedDocumentKey=wrapped["edek"], newTenantId="plain"),
    )
    assert status == 200 and rekeyed["dek"] == wrapped["dek"]
    status, answer = call(
        proxy, "document/unwrap", body("plain", encryptedDocumentKey=rekeyed["edek"])
    )
    assert answer == {"dek": wrapped["dek"]}


# ---- tenant isolation (P-05, P-07) ---------------------------------------------------------


def test_an_edek_of_one_tenant_does_not_unwrap_under_another(proxy):
    wrapped = wrap(proxy, "plain")
    status, answer = call(
        proxy, "document/unwrap", body("acme", encryptedDocumentKey=wrapped["edek"])
    )
    assert status >= 400 and answer["code"] in (202, 203)
    # Even with the tenant field stripped, acme's request cannot use plain's config.
    edek = decode_edek_b64(wrapped["edek"])
    stripped = encode_edek_b64(EncryptedDek(edek.encrypted_dek_data, edek.kms_config_id))
    status, answer = call(proxy, "document/unwrap", body("acme", encryptedDocumentKey=stripped))
    assert answer["code"] == 202


@pytest.mark.parametrize(
    "lookalike",
    [
        "ACME",
        "Acme",
        " acme",
        "acme ",
        "acme\n",
        "\u0430cme",  # Cyrillic a
        "\uff41\uff43\uff4d\uff45",  # fullwidth
        "acme\u200b",
        "../acme",
        "acme/../acme",
        "acme\x00",
        "acm",
        "acmee",
        "%61cme",
    ],
)
def test_tenant_ids_match_exactly(proxy, lookalike):
    status, answer = call(proxy, "document/wrap", body(lookalike))
    assert (status, answer["code"]) == (404, 201)


def test_a_duplicated_authorization_header_is_refused(proxy):
    status, answer = call(proxy, "document/wrap", body("acme"), AUTH + AUTH)
    assert (status, answer["code"]) == (401, 101)


# ---- auth ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [API_KEY, API_KEY_2])
def test_both_api_keys_are_accepted_during_rotation(proxy, key):
    status, _ = call(
        proxy, "document/wrap", body("acme"), [(b"authorization", f"cmk {key}".encode())]
    )
    assert status == 200


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [(b"authorization", b"cmk wrong-key-0123456789")],
        [(b"authorization", API_KEY.encode())],
        [(b"authorization", f"Bearer {API_KEY}".encode())],
    ],
    ids=["missing", "wrong", "no-scheme", "bearer"],
)
def test_bad_credentials_get_101_and_401(proxy, headers):
    status, answer = call(proxy, "document/wrap", body("acme"), headers)
    assert (status, answer["code"]) == (401, 101)


# ---- error codes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"{not json", 102),
        (b"[]", 102),
        ({"tenantId": "acme"}, 102),
        ({"tenantId": "acme", "iclFields": {}}, 102),
        ({"tenantId": "acme", "iclFields": {"requestingId": ""}}, 102),
        ({"tenantId": 7, "iclFields": {"requestingId": "a"}}, 102),
        (body("acme") | {"iclFields": {"requestingId": "a", "dataLabel": 5}}, 102),
    ],
)
def test_invalid_bodies_get_102(proxy, payload, code):
    status, answer = call(proxy, "document/wrap", payload)
    assert (status, answer["code"]) == (400, code)


def test_null_optional_icl_fields_and_custom_fields_are_accepted(proxy):
    payload = {
        "tenantId": "acme",
        "customFields": None,
        "iclFields": {
            "requestingId": "a",
            "dataLabel": None,
            "sourceIp": None,
            "objectId": None,
            "requestId": None,
        },
    }
    assert call(proxy, "document/wrap", payload)[0] == 200


def test_tenant_without_primary_gets_200_on_wrap(proxy):
    status, answer = call(proxy, "document/wrap", body("active-only"))
    assert (status, answer["code"]) == (404, 200)


def test_unknown_tenant_gets_201(proxy):
    assert call(proxy, "document/wrap", body("nobody"))[1]["code"] == 201


def test_edek_of_a_disabled_config_gets_202(proxy, harness):
    edek = encode_edek_b64(EncryptedDek(b"x" * 40, harness.disabled.config_id))
    status, answer = call(
        proxy, "document/unwrap", body("with-disabled", encryptedDocumentKey=edek)
    )
    assert (status, answer["code"]) == (403, 202)


@pytest.mark.parametrize("edek", [None, "", "%%%", base64.b64encode(b"\xff\x01garbage").decode()])
def test_garbage_edek_gets_203(proxy, edek):
    status, answer = call(proxy, "document/unwrap", body("acme", encryptedDocumentKey=edek))
    assert (status, answer["code"]) == (400, 203)


def test_a_tampered_leased_edek_fails_to_unwrap_with_205(proxy):
    edek = decode_edek_b64(wrap(proxy, "acme")["edek"])
    flipped = bytes([edek.encrypted_dek_data[0] ^ 1]) + edek.encrypted_dek_data[1:]
    tampered = encode_edek_b64(
        EncryptedDek(
            flipped,
            edek.kms_config_id,
            edek.leased_key_id,
            edek.leased_key_iv,
            edek.encrypted_leased_key_data,
            "acme",
        )
    )
    assert (
        call(proxy, "document/unwrap", body("acme", encryptedDocumentKey=tampered))[1]["code"]
        == 205
    )


def test_unknown_route_and_wrong_method(proxy):
    assert run(asgi_call(proxy.api, "POST", "/api/1/nope", {}, AUTH))[0] == 404
    assert run(asgi_call(proxy.api, "GET", "/api/1/document/wrap", None, AUTH))[0] == 405


def test_get_root_says_what_the_process_is(proxy):
    for app in (proxy.api, proxy.health):
        status, answer = run(asgi_call(app, "GET", "/"))
        assert status == 200 and answer["service"] == "opencmk-tenant-security-proxy"


# ---- security events -----------------------------------------------------------------------


@pytest.mark.parametrize("where", ["iclFields", "top"])
def test_security_event_is_accepted_from_either_place_and_answers_null(proxy, harness, where):
    payload = body("acme", timestampMillis=1714930605576)
    if where == "top":
        payload["event"] = "USER_LOGIN"
    else:
        payload["iclFields"]["event"] = "USER_LOGIN"
    assert call(proxy, "event/security-event", payload) == (200, None)
    [event] = harness.hub.named("USER_LOGIN", "acme")
    assert event["source"] == "client" and event["details"]["timestamp_millis"] == 1714930605576


@pytest.mark.parametrize("name", ["NOT_AN_EVENT", "CUSTOM_lower", "USER_", None])
def test_invalid_security_events_get_301(proxy, name):
    payload = body("acme", event=name)
    status, answer = call(proxy, "event/security-event", payload)
    assert answer["code"] in (301, 102) and status >= 400


def test_every_wrap_and_unwrap_emits_a_proxy_event_without_keys(proxy, harness):
    wrapped = wrap(proxy, "plain")
    call(proxy, "document/unwrap", body("plain", encryptedDocumentKey=wrapped["edek"]))
    events = harness.hub.named("KMS_WRAP", "plain") + harness.hub.named("KMS_UNWRAP", "plain")
    assert len(events) == 2
    text = json.dumps(events)
    assert wrapped["dek"] not in text and wrapped["edek"] not in text
    assert events[0]["icl_fields"]["requestingId"] == "alice"


def test_report_operations_answers_204_and_records_an_event(proxy, harness):
    ops = {wrap(proxy, "acme")["edek"]: {"wraps": 3, "unwraps": 2}}
    status, answer = call(proxy, "document/report-operations", body("acme", operations=ops))
    assert (status, answer) == (204, None)
    [event] = harness.hub.named("KMS_CACHED_KEY_OPERATIONS", "acme")
    assert (event["details"]["wraps"], event["details"]["unwraps"]) == (3, 2)


# ---- derive-with-secret-path ---------------------------------------------------------------


def derive(runtime, tenant, paths):
    return call(
        runtime,
        "key/derive-with-secret-path",
        body(tenant, paths=paths, derivationType="sha512", secretType="deterministic"),
    )


def test_derive_creates_one_secret_per_path_and_is_stable(proxy, harness):
    status, first = derive(proxy, "plain", {"users": ["email", "name"]})
    assert status == 200 and first["hasPrimaryConfig"] is True
    [key] = first["derivedKeys"]["users"]["email"]
    assert key["current"] is True and len(base64.b64decode(key["derivedKey"])) == 64
    assert derive(proxy, "plain", {"users": ["email"]})[1]["derivedKeys"]["users"]["email"] == [key]
    assert first["derivedKeys"]["users"]["name"][0]["derivedKey"] != key["derivedKey"]
    assert len(harness.broker.secrets["plain"]) == 1


def test_a_second_replica_derives_the_same_keys(proxy, harness):
    first = derive(proxy, "acme", {"p": ["d"]})[1]
    replica = harness.runtime()
    run(replica.syncer.sync_once())
    assert derive(replica, "acme", {"p": ["d"]})[1] == first


def test_derive_without_primary_reports_it_and_creates_nothing(proxy, harness):
    status, answer = derive(proxy, "active-only", {"p": ["d"]})
    assert status == 200
    assert answer == {"hasPrimaryConfig": False, "derivedKeys": {"p": {"d": []}}}
    assert "active-only" not in harness.broker.secrets


def test_derive_rejects_unsupported_derivation_types(proxy):
    payload = body("plain", paths={"p": ["d"]}, derivationType="argon2", secretType="search")
    assert call(proxy, "key/derive-with-secret-path", payload)[1]["code"] == 102


def test_security_events_for_unknown_tenants_are_refused(proxy, harness):
    payload = body("nobody", event="USER_LOGIN")
    assert call(proxy, "event/security-event", payload)[1]["code"] == 201
    assert harness.hub.named("USER_LOGIN") == []


def test_oversized_batches_are_refused(proxy):
    ids = [str(i) for i in range(10_001)]
    assert call(proxy, "document/batch-wrap", body("acme", documentIds=ids))[1]["code"] == 102


def test_report_operations_ignores_non_numeric_counts(proxy, harness):
    ops = {"e": {"wraps": "many", "unwraps": -3}}
    assert call(proxy, "document/report-operations", body("acme", operations=ops))[0] == 204


def test_a_refused_unwrap_is_a_security_event_for_the_tenant(proxy, harness):
    edek = encode_edek_b64(EncryptedDek(b"x" * 40, harness.disabled.config_id))
    call(proxy, "document/unwrap", body("with-disabled", encryptedDocumentKey=edek))
    [event] = harness.hub.named("KMS_UNWRAP", "with-disabled")
    latency_s = event["details"].pop("latency_s")
    assert event["details"] == {
        "result": "failure",
        "error_code": 202,
        "kms_config_id": harness.disabled.config_id,
    }
    assert isinstance(latency_s, float) and 0 <= latency_s < 5
    assert event["icl_fields"]["requestingId"] == "alice"
