from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from opencmk_crypto import (
    OrgKeys,
    StatementError,
    b64d,
    b64e,
    issued_at_now,
    sign_statement,
    statement_payload_unverified,
    verify_statement,
)
from opencmk_crypto.statements import SIGNING_PREFIX, signed_bytes


def _flip(b64: str, index: int) -> str:
    raw = bytearray(b64d(b64))
    raw[index] ^= 0x01
    return b64e(bytes(raw))


def test_signed_statement_verifies_and_returns_payload(
    vendor_root: OrgKeys, tenant_root_payload: dict[str, Any]
) -> None:
    statement = sign_statement("tenant-root", tenant_root_payload, vendor_root.signing_key)
    assert set(statement) == {"type", "kid", "payload", "sig"}
    assert statement["kid"] == vendor_root.kid
    payload = verify_statement(
        statement, expected_type="tenant-root", public_key=vendor_root.signing_public
    )
    assert payload == tenant_root_payload


def test_signature_covers_prefix_type_newline_and_exact_payload_bytes(
    vendor_root: OrgKeys, tenant_root_payload: dict[str, Any]
) -> None:
    statement = sign_statement("tenant-root", tenant_root_payload, vendor_root.signing_key)
    payload_bytes = b64d(statement["payload"])
    message = b"OpenCMK/1/tenant-root\n" + payload_bytes
    assert signed_bytes("tenant-root", payload_bytes) == message
    assert SIGNING_PREFIX == b"OpenCMK/1/"
    vendor_root.signing_key.verify_key.verify(message, b64d(statement["sig"]))


def test_verifier_accepts_non_canonical_payload_bytes_signed_as_is(vendor_root: OrgKeys) -> None:
    # DESIGN.md §3: the exact bytes are signed, so another language's JSON layout verifies too.
    payload_bytes = b'{ "vendor_id" : "acme", "type": "proxy-cluster-revocation",\n'
    payload_bytes += b'"issued_at": "2026-01-02T03:04:05.123+00:00", "cluster_id": "c1" }'
    sig = vendor_root.signing_key.sign(signed_bytes("proxy-cluster-revocation", payload_bytes))
    statement = {
        "type": "proxy-cluster-revocation",
        "kid": vendor_root.kid,
        "payload": b64e(payload_bytes),
        "sig": b64e(sig.signature),
    }
    payload = verify_statement(
        statement, expected_type="proxy-cluster-revocation", public_key=vendor_root.signing_public
    )
    assert payload["cluster_id"] == "c1"


def _every_single_byte_change(statement: dict[str, str]) -> list[dict[str, str]]:
    cases = []
    for field in ("payload", "sig"):
        for index in range(len(b64d(statement[field]))):
            cases.append(dict(statement, **{field: _flip(statement[field], index)}))
    return cases


def test_verifier_rejects_every_single_byte_flip_in_payload_and_sig(
    vendor_root: OrgKeys, tenant_root_payload: dict[str, Any]
) -> None:
    statement = sign_statement("tenant-root", tenant_root_payload, vendor_root.signing_key)
    changed_all = _every_single_byte_change(statement)
    assert len(changed_all) > 64
    for changed in changed_all:
        with pytest.raises(StatementError):
            verify_statement(
                changed, expected_type="tenant-root", public_key=vendor_root.signing_public
            )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("type", "tenant-policy"),
        ("type", "proxy-cluster"),
        ("type", "tenant-root "),
        ("kid", "0" * 32),
        ("kid", None),
        ("payload", None),
        ("sig", ""),
    ],
)
def test_verifier_rejects_a_changed_statement_field(
    vendor_root: OrgKeys, tenant_root_payload: dict[str, Any], field: str, value: Any
) -> None:
    statement = sign_statement("tenant-root", tenant_root_payload, vendor_root.signing_key)
    statement[field] = value
    with pytest.raises(StatementError):
        verify_statement(
            statement, expected_type="tenant-root", public_key=vendor_root.signing_public
        )


def test_verifier_rejects_extra_or_missing_statement_fields(
    vendor_root: OrgKeys, tenant_root_payload: dict[str, Any]
) -> None:
    statement = sign_statement("tenant-root", tenant_root_payload, vendor_root.signing_key)
    for changed in (
        {**statement, "extra": "x"},
        {k: v for k, v in statement.items() if k != "kid"},
    ):
        with pytest.raises(StatementError):
            verify_statement(
                changed, expected_type="tenant-root", public_key=vendor_root.signing_public
            )


def test_verifier_rejects_kid_changed_and_key_swapped_together(
    vendor_root: OrgKeys, other_vendor_root: OrgKeys, tenant_root_payload: dict[str, Any]
) -> None:
    statement = sign_statement("tenant-root", tenant_root_payload, vendor_root.signing_key)
    statement["kid"] = other_vendor_root.kid
    with pytest.raises(StatementError, match="signature"):
        verify_statement(
            statement, expected_type="tenant-root", public_key=other_vendor_root.signing_public
        )


def test_verifier_rejects_tenant_root_signed_by_another_vendors_root(
    vendor_root: OrgKeys, other_vendor_root: OrgKeys, tenant_root_payload: dict[str, Any]
) -> None:
    statement = sign_statement("tenant-root", tenant_root_payload, other_vendor_root.signing_key)
    with pytest.raises(StatementError):
        verify_statement(
            statement, expected_type="tenant-root", public_key=vendor_root.signing_public
        )
    # Even with the kid relabelled to the pinned root's, the signature check fails.
    statement["kid"] = vendor_root.kid
    with pytest.raises(StatementError, match="signature"):
        verify_statement(
            statement, expected_type="tenant-root", public_key=vendor_root.signing_public
        )


def test_verifier_rejects_statement_of_one_type_presented_as_another(vendor_root: OrgKeys) -> None:
    payload = {
        "type": "proxy-cluster-revocation",
        "vendor_id": "acme",
        "issued_at": issued_at_now(),
        "cluster_id": "c1",
    }
    statement = sign_statement("proxy-cluster-revocation", payload, vendor_root.signing_key)
    with pytest.raises(StatementError):
        verify_statement(
            statement, expected_type="proxy-cluster", public_key=vendor_root.signing_public
        )
    relabelled = dict(statement, type="proxy-cluster")
    with pytest.raises(StatementError, match="signature"):
        verify_statement(
            relabelled, expected_type="proxy-cluster", public_key=vendor_root.signing_public
        )


def test_verifier_rejects_payload_whose_inner_type_differs(vendor_root: OrgKeys) -> None:
    payload_bytes = json.dumps(
        {"type": "tenant-policy", "vendor_id": "acme", "issued_at": "2026-01-01T00:00:00Z"}
    ).encode()
    sig = vendor_root.signing_key.sign(signed_bytes("tenant-root", payload_bytes)).signature
    statement = {
        "type": "tenant-root",
        "kid": vendor_root.kid,
        "payload": b64e(payload_bytes),
        "sig": b64e(sig),
    }
    with pytest.raises(StatementError, match="type"):
        verify_statement(
            statement, expected_type="tenant-root", public_key=vendor_root.signing_public
        )


@pytest.mark.parametrize(
    "payload_bytes",
    [
        b'{"type":"tenant-root","type":"tenant-root","vendor_id":"a","issued_at":"2026-01-01T00:00:00Z"}',
        b'{"type":"tenant-root","vendor_id":NaN,"issued_at":"2026-01-01T00:00:00Z"}',
        b'["tenant-root"]',
        b"\xff\xfe",
        b'{"type":"tenant-root","vendor_id":"a","issued_at":"2026-01-01 00:00:00"}',
        b'{"type":"tenant-root","vendor_id":"a","issued_at":"2026-01-01T00:00:00+02:00"}',
        b'{"type":"tenant-root","vendor_id":"","issued_at":"2026-01-01T00:00:00Z"}',
    ],
    ids=[
        "duplicate-key",
        "nan",
        "not-object",
        "bad-utf8",
        "not-rfc3339",
        "not-utc",
        "empty-vendor",
    ],
)
def test_verifier_rejects_signed_but_malformed_payloads(
    vendor_root: OrgKeys, payload_bytes: bytes
) -> None:
    sig = vendor_root.signing_key.sign(signed_bytes("tenant-root", payload_bytes)).signature
    statement = {
        "type": "tenant-root",
        "kid": vendor_root.kid,
        "payload": b64e(payload_bytes),
        "sig": b64e(sig),
    }
    with pytest.raises(StatementError):
        verify_statement(
            statement, expected_type="tenant-root", public_key=vendor_root.signing_public
        )


def test_verifier_rejects_non_canonical_base64_of_a_valid_signature(
    vendor_root: OrgKeys, tenant_root_payload: dict[str, Any]
) -> None:
    statement = sign_statement("tenant-root", tenant_root_payload, vendor_root.signing_key)
    sig = statement["sig"]
    # 64 bytes -> last data char carries 4 unused bits; set one: same bytes, different string.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = sig[-3]
    tweaked = sig[:-3] + alphabet[alphabet.index(last) | 1] + "=="
    assert tweaked != sig and base64.b64decode(tweaked) == base64.b64decode(sig)
    with pytest.raises(StatementError):
        verify_statement(
            dict(statement, sig=tweaked),
            expected_type="tenant-root",
            public_key=vendor_root.signing_public,
        )


@pytest.mark.parametrize(
    "change",
    [
        {"type": "tenant-policy"},
        {"type": None},
        {"vendor_id": None},
        {"issued_at": "yesterday"},
    ],
    ids=["inner-type-differs", "no-type", "no-vendor", "bad-issued-at"],
)
def test_signer_checks_common_payload_fields(
    vendor_root: OrgKeys, tenant_root_payload: dict[str, Any], change: dict[str, Any]
) -> None:
    payload = {**tenant_root_payload, **change}
    with pytest.raises(StatementError):
        sign_statement("tenant-root", payload, vendor_root.signing_key)


def test_signer_rejects_unknown_type(vendor_root: OrgKeys) -> None:
    payload = {"type": "other", "vendor_id": "a", "issued_at": issued_at_now()}
    with pytest.raises(StatementError):
        sign_statement("other", payload, vendor_root.signing_key)


def test_verifier_rejects_wrong_size_public_key(
    vendor_root: OrgKeys, tenant_root_payload: dict[str, Any]
) -> None:
    statement = sign_statement("tenant-root", tenant_root_payload, vendor_root.signing_key)
    with pytest.raises(StatementError):
        verify_statement(statement, expected_type="tenant-root", public_key=bytes(31))


def test_unverified_payload_decodes_for_display_even_with_bad_signature(
    vendor_root: OrgKeys, tenant_root_payload: dict[str, Any]
) -> None:
    statement = sign_statement("tenant-root", tenant_root_payload, vendor_root.signing_key)
    statement["sig"] = _flip(statement["sig"], 0)
    assert statement_payload_unverified(statement) == tenant_root_payload
