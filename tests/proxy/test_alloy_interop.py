"""Interop: IronCore's own SDK (`ironcore-alloy`, SaaS Shield clients) against this proxy."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import ironcore_alloy as alloy
import pytest

pytestmark = pytest.mark.services


class UrllibHttpClient(alloy.HttpClient):
    """alloy's Python binding asks the application for an HTTP client; a thin stdlib one."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict]] = []

    def _post(self, url: str, body: str, headers: alloy.AlloyHttpClientHeaders) -> tuple[int, str]:
        self.requests.append((url, json.loads(body)))
        request = urllib.request.Request(  # noqa: S310 - loopback
            url,
            data=body.encode(),
            method="POST",
            headers={"Content-Type": headers.content_type, "Authorization": headers.authorization},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    async def post_json(
        self, url: str, json_body: str, headers: alloy.AlloyHttpClientHeaders
    ) -> alloy.AlloyHttpClientResponse:
        status, text = await asyncio.to_thread(self._post, url, json_body, headers)
        return alloy.AlloyHttpClientResponse(json_body=text, status_code=status)


@pytest.fixture
def http() -> UrllibHttpClient:
    return UrllibHttpClient()


@pytest.fixture
def sdk(tsp, http) -> alloy.SaasShield:
    config = alloy.SaasShieldConfiguration(
        tsp.url, tsp.api_key, None, http, allow_insecure_http=True
    )
    return alloy.SaasShield(config)


def _meta(tenant_id: str) -> alloy.AlloyMetadata:
    return alloy.AlloyMetadata(
        tenant_id, "svc-interop", "PII", "127.0.0.1", "obj-1", "req-1", {"app": "test"}
    )


@pytest.mark.parametrize("tenant", ["tenant_id", "tenant_id_unleased"])
def test_alloy_standard_encrypt_then_decrypt_round_trips(tsp, sdk, tenant):
    meta = _meta(getattr(tsp, tenant))
    document = {"name": b"Jim Bridger", "ssn": b"123-45-6789"}

    async def run():
        encrypted = await sdk.standard().encrypt(document, meta)
        assert encrypted.document["name"] != b"Jim Bridger"
        return await sdk.standard().decrypt(encrypted, meta)

    assert asyncio.run(run()) == document


def test_alloy_simple_metadata_without_requesting_id_works(tsp, sdk):
    meta = alloy.AlloyMetadata.new_simple(tsp.tenant_id)

    async def run():
        encrypted = await sdk.standard().encrypt({"f": b"x"}, meta)
        return await sdk.standard().decrypt(encrypted, meta)

    assert asyncio.run(run()) == {"f": b"x"}


def test_alloy_batch_encrypt_and_decrypt(tsp, sdk):
    meta = _meta(tsp.tenant_id)
    documents = {f"doc-{i}": {"field": f"value {i}".encode()} for i in range(5)}

    async def run():
        encrypted = await sdk.standard().encrypt_batch(documents, meta)
        assert not encrypted.failures
        decrypted = await sdk.standard().decrypt_batch(encrypted.successes, meta)
        assert not decrypted.failures
        return decrypted.successes

    assert asyncio.run(run()) == documents


def test_alloy_deterministic_encrypt_is_stable_and_decrypts(tsp, sdk):
    meta = _meta(tsp.tenant_id_unleased)
    field = alloy.PlaintextField(
        plaintext_field=b"jim@example.com", secret_path="users", derivation_path="email"
    )

    async def run():
        det = sdk.deterministic()
        first = await det.encrypt(field, meta)
        second = await det.encrypt(field, meta)
        assert first.encrypted_field == second.encrypted_field
        return await det.decrypt(first, meta)

    assert asyncio.run(run()).plaintext_field == b"jim@example.com"


def test_alloy_deterministic_keys_differ_between_tenants(tsp, sdk):
    field = alloy.PlaintextField(
        plaintext_field=b"same", secret_path="users", derivation_path="email"
    )

    async def run():
        det = sdk.deterministic()
        a = await det.encrypt(field, _meta(tsp.tenant_id))
        b = await det.encrypt(field, _meta(tsp.other_tenant_id))
        return a.encrypted_field, b.encrypted_field

    a, b = asyncio.run(run())
    assert a != b


def test_alloy_security_event_is_accepted_and_delivered(tsp, sdk, http):
    meta = _meta(tsp.tenant_id)
    asyncio.run(
        sdk.standard().log_security_event(
            alloy.SecurityEvent.USER(alloy.UserEvent.LOGIN), meta, 1_700_000_000_000
        )
    )
    url, body = http.requests[-1]
    assert body["event"] == "USER_LOGIN"  # alloy puts the event at the top level
    assert url.endswith("/api/1/event/security-event")
    event = tsp.proxy.wait_for_event(lambda e: e.get("event") == "USER_LOGIN")
    assert event["tenant_id"] == tsp.tenant_id
