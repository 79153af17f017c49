"""Done-when of issue 8: documents cross between this SDK and IronCore's `ironcore-alloy`.

Both talk to the same proxy (the `tsp` fixture). alloy's SaaS Shield standard client reads
IronCore's v3 documents; with `legacy_tsc_write_format=True` it also writes them, and its EDEK
bytes are the same `EncryptedDeks` protobuf that TSC clients carry as base64.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import urllib.parse
from typing import Any

import ironcore_alloy as alloy
import pytest

from tenant_security_client import (
    DeterministicEncryptedField,
    DeterministicPlaintextField,
    EncryptedDocument,
    RequestMetadata,
    TenantSecurityClient,
)

pytestmark = pytest.mark.services


class _HttpClient(alloy.HttpClient):
    """alloy's Python binding needs an application-supplied HTTP client; one on http.client."""

    def _post(self, url: str, body: str, headers: alloy.AlloyHttpClientHeaders) -> tuple[int, str]:
        parts = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
        try:
            conn.request(
                "POST",
                parts.path,
                body.encode(),
                {"Content-Type": headers.content_type, "Authorization": headers.authorization},
            )
            response = conn.getresponse()
            return response.status, response.read().decode()
        finally:
            conn.close()

    async def post_json(
        self, url: str, json_body: str, headers: alloy.AlloyHttpClientHeaders
    ) -> alloy.AlloyHttpClientResponse:
        status, text = await asyncio.to_thread(self._post, url, json_body, headers)
        return alloy.AlloyHttpClientResponse(json_body=text, status_code=status)


def _alloy(tsp: Any, *, legacy: bool) -> alloy.SaasShield:
    config = alloy.SaasShieldConfiguration(
        tsp.url,
        tsp.api_key,
        None,
        _HttpClient(),
        legacy_tsc_write_format=legacy,
        allow_insecure_http=True,
    )
    return alloy.SaasShield(config)


@pytest.fixture(scope="module")
def ours(tsp: Any) -> Any:
    with TenantSecurityClient(tsp.url, tsp.api_key, allow_insecure_http=True) as client:
        yield client


def _alloy_meta(tenant_id: str) -> alloy.AlloyMetadata:
    return alloy.AlloyMetadata(tenant_id, "interop", None, None, None, None, {})


DOCUMENT = {"name": b"Jim Bridger", "ssn": b"123-45-6789", "blob": bytes(range(256)) * 40}


@pytest.mark.parametrize("tenant", ["tenant_id", "tenant_id_unleased"])
def test_a_document_encrypted_by_this_sdk_decrypts_with_alloy(
    tsp: Any, ours: TenantSecurityClient, tenant: str
) -> None:
    tenant_id = getattr(tsp, tenant)
    encrypted = ours.encrypt(DOCUMENT, RequestMetadata(tenant_id, "interop"))
    theirs = alloy.EncryptedDocument(
        edek=base64.b64decode(encrypted.edek),
        document={k: bytes(v) for k, v in encrypted.fields.items()},
    )
    sdk = _alloy(tsp, legacy=False)
    decrypted = asyncio.run(sdk.standard().decrypt(theirs, _alloy_meta(tenant_id)))
    assert decrypted == DOCUMENT


@pytest.mark.parametrize("tenant", ["tenant_id", "tenant_id_unleased"])
def test_a_document_encrypted_by_alloy_in_legacy_tsc_format_decrypts_with_this_sdk(
    tsp: Any, ours: TenantSecurityClient, tenant: str
) -> None:
    tenant_id = getattr(tsp, tenant)
    sdk = _alloy(tsp, legacy=True)
    theirs = asyncio.run(sdk.standard().encrypt(DOCUMENT, _alloy_meta(tenant_id)))
    assert all(v[:5] == b"\x03IRON" for v in theirs.document.values())
    encrypted = EncryptedDocument(
        fields=dict(theirs.document), edek=base64.b64encode(theirs.edek).decode()
    )
    decrypted = ours.decrypt(encrypted, RequestMetadata(tenant_id, "interop"))
    assert decrypted.fields == DOCUMENT


def test_deterministic_fields_written_by_alloy_decrypt_with_this_sdk(
    tsp: Any, ours: TenantSecurityClient
) -> None:
    """alloy's deterministic ciphertext differs from the TSC form (an empty AD string in S2V);
    this SDK reads both, and writes the TSC form that IronCore's vector pins."""
    tenant_id = tsp.tenant_id_unleased
    meta = RequestMetadata(tenant_id, "interop")
    ours_field = ours.deterministic_encrypt(
        DeterministicPlaintextField(b"jim@example.com", "email", "users"), meta
    )
    field = alloy.PlaintextField(
        plaintext_field=b"jim@example.com", secret_path="users", derivation_path="email"
    )
    sdk = _alloy(tsp, legacy=True)
    theirs = asyncio.run(sdk.deterministic().encrypt(field, _alloy_meta(tenant_id)))
    assert theirs.encrypted_field[:6] == ours_field.ciphertext[:6]  # same tenant secret id
    back = ours.deterministic_decrypt(
        DeterministicEncryptedField(theirs.encrypted_field, "email", "users"), meta
    )
    assert back.plaintext == b"jim@example.com"
