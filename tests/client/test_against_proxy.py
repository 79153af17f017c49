"""The SDK against a real proxy (the `tsp` session fixture: fake broker, proxy, OpenBao KMS)."""

from __future__ import annotations

import asyncio
import io
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tenant_security_client import (
    AsyncTenantSecurityClient,
    CustomEvent,
    DecryptionError,
    DeterministicPlaintextField,
    EncryptedDocument,
    InvalidEdekError,
    KmsError,
    RequestMetadata,
    TenantSecurityClient,
    UnauthorizedError,
    UnknownTenantError,
    UserEvent,
)

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def client(tsp: Any) -> Iterator[TenantSecurityClient]:
    with TenantSecurityClient(tsp.url, tsp.api_key, allow_insecure_http=True) as c:
        yield c


def wait_for_events(
    tsp: Any, predicate: Any, count: int, timeout: float = 10
) -> list[dict[str, Any]]:
    """The proxy writes its event log asynchronously; poll until `count` events match."""
    deadline = time.monotonic() + timeout
    while True:
        found = [e for e in tsp.events() if predicate(e)]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def meta(tenant_id: str, **extra: Any) -> RequestMetadata:
    return RequestMetadata(tenant_id=tenant_id, requesting_id="sdk-test", **extra)


@pytest.mark.parametrize("tenant", ["tenant_id", "tenant_id_unleased"])
def test_a_document_round_trips_through_the_proxy(
    tsp: Any, client: TenantSecurityClient, tenant: str
) -> None:
    m = meta(getattr(tsp, tenant))
    document = {"name": b"Jim Bridger", "ssn": b"123-45-6789", "empty": b""}
    encrypted = client.encrypt(document, m)
    assert encrypted.fields["name"] != b"Jim Bridger"
    assert client.decrypt(encrypted, m).fields == document


def test_metadata_reaches_the_tenants_audit_events(tsp: Any, client: TenantSecurityClient) -> None:
    request_id = uuid.uuid4().hex
    m = meta(tsp.tenant_id, data_label="PII", request_id=request_id, custom_fields={"app": "t"})
    client.encrypt({"f": b"x"}, m)
    event = tsp.proxy.wait_for_event(lambda e: e["icl_fields"].get("requestId") == request_id)
    assert event["tenant_id"] == tsp.tenant_id
    assert event["icl_fields"]["dataLabel"] == "PII"
    assert event["custom_fields"] == {"app": "t"}


def test_a_document_cannot_be_decrypted_as_another_tenant(
    tsp: Any, client: TenantSecurityClient
) -> None:
    encrypted = client.encrypt({"f": b"secret"}, meta(tsp.tenant_id_unleased))
    with pytest.raises(KmsError):
        client.decrypt(encrypted, meta(tsp.other_tenant_id))


def test_a_tampered_field_fails_with_the_opaque_error(
    tsp: Any, client: TenantSecurityClient
) -> None:
    m = meta(tsp.tenant_id)
    encrypted = client.encrypt({"f": b"secret"}, m)
    field = bytearray(encrypted.fields["f"])
    field[-5] ^= 1
    with pytest.raises(DecryptionError):
        client.decrypt(EncryptedDocument({"f": field}, encrypted.edek), m)


def test_encrypting_with_an_existing_key_keeps_the_edek(
    tsp: Any, client: TenantSecurityClient
) -> None:
    m = meta(tsp.tenant_id)
    first = client.encrypt({"a": b"1"}, m)
    update = client.encrypt_with_existing_key({"b": b"2"}, first.edek, m)
    assert update.edek == first.edek
    merged = EncryptedDocument({**first.fields, **update.fields}, first.edek)
    assert client.decrypt(merged, m).fields == {"a": b"1", "b": b"2"}


def test_batches_report_failures_per_document(tsp: Any, client: TenantSecurityClient) -> None:
    m = meta(tsp.tenant_id)
    docs = {f"doc-{i}": {"v": f"value {i}".encode()} for i in range(5)}
    encrypted = client.encrypt_batch(docs, m)
    assert not encrypted.has_failures and set(encrypted.successes) == set(docs)
    to_decrypt = dict(encrypted.successes)
    to_decrypt["broken"] = EncryptedDocument(
        {"v": encrypted.successes["doc-0"].fields["v"]}, "bm90IGFuIGVkZWs="
    )
    decrypted = client.decrypt_batch(to_decrypt, m)
    assert {k: v.fields for k, v in decrypted.successes.items()} == docs
    assert isinstance(decrypted.failures["broken"], InvalidEdekError)


def test_rekey_moves_a_document_to_another_tenant_without_touching_fields(
    tsp: Any, client: TenantSecurityClient
) -> None:
    encrypted = client.encrypt({"f": b"moving"}, meta(tsp.tenant_id))
    new_edek = client.rekey_edek(encrypted.edek, tsp.other_tenant_id, meta(tsp.tenant_id))
    assert new_edek != encrypted.edek
    moved = EncryptedDocument(encrypted.fields, new_edek)
    assert client.decrypt(moved, meta(tsp.other_tenant_id)).fields == {"f": b"moving"}


def test_streams_round_trip_through_the_proxy(tsp: Any, client: TenantSecurityClient) -> None:
    m = meta(tsp.tenant_id)
    plaintext = os.urandom(1_000_003)
    encrypted = io.BytesIO()
    edek = client.encrypt_stream(io.BytesIO(plaintext), encrypted, m)
    # a streamed file is an ordinary field, and vice versa
    assert (
        client.decrypt(EncryptedDocument({"file": encrypted.getvalue()}, edek), m).fields["file"]
        == plaintext
    )
    out = io.BytesIO()
    assert client.decrypt_stream(io.BytesIO(encrypted.getvalue()), out, edek, m) == len(plaintext)
    assert out.getvalue() == plaintext


def test_deterministic_fields_through_the_proxy(tsp: Any, client: TenantSecurityClient) -> None:
    m = meta(tsp.tenant_id_unleased)
    field = DeterministicPlaintextField(b"jim@example.com", "email", "users")
    first = client.deterministic_encrypt(field, m)
    assert client.deterministic_encrypt(field, m) == first
    assert client.deterministic_decrypt(first, m).plaintext == b"jim@example.com"
    assert client.deterministic_rotate(first, m) == first  # already under the current secret
    terms = client.deterministic_search_terms(field, m)
    assert terms[0].ciphertext == first.ciphertext
    other = client.deterministic_encrypt(field, meta(tsp.other_tenant_id))
    assert other.ciphertext != first.ciphertext


def test_security_events_reach_the_tenants_log(tsp: Any, client: TenantSecurityClient) -> None:
    request_id = uuid.uuid4().hex
    client.log_security_event(
        UserEvent.LOGIN, meta(tsp.tenant_id, request_id=request_id), timestamp_millis=1714930605576
    )
    client.log_security_event(
        CustomEvent("INVOICE_SENT"), meta(tsp.tenant_id, request_id=request_id)
    )
    login = tsp.proxy.wait_for_event(
        lambda e: e["event"] == "USER_LOGIN" and e["icl_fields"].get("requestId") == request_id
    )
    assert login["details"]["timestamp_millis"] == 1714930605576
    tsp.proxy.wait_for_event(
        lambda e: (
            e["event"] == "CUSTOM_INVOICE_SENT" and e["icl_fields"].get("requestId") == request_id
        )
    )


def test_cached_keys_report_their_local_operations(tsp: Any, client: TenantSecurityClient) -> None:
    request_id = uuid.uuid4().hex
    m = meta(tsp.tenant_id, request_id=request_id)
    with client.create_cached_key(m) as key:
        docs = [key.encrypt({"n": str(i).encode()}) for i in range(4)]
    with client.load_cached_key(docs[0].edek, m) as key:
        assert [key.decrypt(d).fields["n"] for d in docs] == [b"0", b"1", b"2", b"3"]

    def is_report(e: dict[str, Any]) -> bool:
        return (
            e["event"] == "KMS_CACHED_KEY_OPERATIONS"
            and e["icl_fields"].get("requestId") == request_id
        )

    reports = wait_for_events(tsp, is_report, 2)
    assert sorted((r["details"]["wraps"], r["details"]["unwraps"]) for r in reports) == [
        (0, 4),
        (4, 0),
    ]
    # cached documents are ordinary documents
    assert client.decrypt(docs[2], m).fields == {"n": b"2"}


def test_proxy_errors_map_onto_the_exception_tree(tsp: Any, client: TenantSecurityClient) -> None:
    with pytest.raises(UnknownTenantError) as caught:
        client.encrypt({"f": b"x"}, meta("no-such-tenant"))
    assert caught.value.code == 201
    bad = TenantSecurityClient(tsp.url, "wrong-key-wrong-key", allow_insecure_http=True)
    with bad, pytest.raises(UnauthorizedError):
        bad.encrypt({"f": b"x"}, meta(tsp.tenant_id))


def test_the_async_client_does_everything_the_sync_one_does(tsp: Any) -> None:
    async def run() -> None:
        async with AsyncTenantSecurityClient(
            tsp.url, tsp.api_key, allow_insecure_http=True
        ) as client:
            m = meta(tsp.tenant_id)
            results = await asyncio.gather(
                *(client.encrypt({"i": str(i).encode()}, m) for i in range(20))
            )
            plains = await asyncio.gather(*(client.decrypt(r, m) for r in results))
            assert [p.fields["i"] for p in plains] == [str(i).encode() for i in range(20)]
            batch = await client.encrypt_batch({"a": {"f": b"1"}}, m)
            assert (await client.decrypt_batch(batch.successes, m)).successes["a"].fields == {
                "f": b"1"
            }
            out = io.BytesIO()
            edek = await client.encrypt_stream(io.BytesIO(b"streamed" * 1000), out, m)
            back = io.BytesIO()
            await client.decrypt_stream(io.BytesIO(out.getvalue()), back, edek, m)
            assert back.getvalue() == b"streamed" * 1000
            field = DeterministicPlaintextField(b"v", "d", "s")
            enc = await client.deterministic_encrypt(field, m)
            assert (await client.deterministic_decrypt(enc, m)).plaintext == b"v"
            await client.log_security_event(UserEvent.LOGOUT, m)
            async with await client.create_cached_key(m) as key:
                key.encrypt({"f": b"x"})
            with pytest.raises(UnknownTenantError):
                await client.encrypt({"f": b"x"}, meta("no-such-tenant"))

    asyncio.run(run())
