"""Known-answer vectors: IronCore's document format (C-02) and Wycheproof AES-GCM/AES-SIV (C-01)."""

from __future__ import annotations

import base64
import struct

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV

from tenant_security_client import DecryptionError, derive_key
from tenant_security_client import _deterministic as det
from tenant_security_client import _format as fmt

from .helpers import ironcore_cases, wycheproof_params

CASES = ironcore_cases()


def test_it_reproduces_ironcores_header_signature_byte_for_byte() -> None:
    case = CASES["v3-header-signature"]
    header = bytes.fromhex(case["header_proto_hex"])
    aes = AESGCM(bytes.fromhex(case["dek_hex"]))
    # Rebuild the header from its own signature IV: the tag must come out identical.
    parsed = fmt.parse_field(b"\x03IRON" + struct.pack(">H", len(header)) + header + bytes(28))
    assert parsed.tenant_id == case["tenant_id"]
    fmt.verify_header(aes, parsed)
    assert parsed.sig is not None
    resigned = fmt._signature(aes, parsed.sig[:12], fmt._saas_shield_header("tenantId"))
    assert resigned == parsed.sig[12:]


def test_it_rejects_the_header_vector_under_another_key() -> None:
    case = CASES["v3-header-signature"]
    header = bytes.fromhex(case["header_proto_hex"])
    parsed = fmt.parse_field(b"\x03IRON" + struct.pack(">H", len(header)) + header + bytes(28))
    with pytest.raises(DecryptionError):
        fmt.verify_header(AESGCM(bytes(32)), parsed)


def test_it_decrypts_the_v3_document_written_by_ironcores_php_client() -> None:
    case = CASES["v3-document-from-php"]
    plaintext = fmt.decrypt_field(
        AESGCM(bytes.fromhex(case["dek_hex"])), bytes.fromhex(case["encrypted_hex"])
    )
    assert plaintext.decode().startswith(case["plaintext_utf8_prefix"])


def test_it_verifies_the_php_documents_364_byte_header() -> None:
    case = CASES["v3-document-from-php"]
    data = bytes.fromhex(case["encrypted_hex"])
    assert struct.unpack(">H", data[5:7]) == (364,)
    parsed = fmt.parse_field(data)
    assert parsed.tenant_id is not None
    assert parsed.tenant_id == "tenantId" * (len(parsed.tenant_id) // 8)
    fmt.verify_header(AESGCM(bytes.fromhex(case["dek_hex"])), parsed)


def test_it_derives_the_deterministic_key_like_the_proxy() -> None:
    case = CASES["deterministic-derived-key"]
    key = derive_key(
        base64.b64decode(case["tenant_secret_b64"]), case["tenant_id"], case["derivation_path"]
    )
    assert base64.b64encode(key).decode() == case["derived_key_b64"]


def _keyset(case: dict[str, str], *, current: bool = True) -> det.DerivedKeySet:
    key = det.DerivedKey(
        tenant_secret_id=int(case["tenant_secret_id"]),
        current=current,
        key=bytearray(base64.b64decode(case["derived_key_b64"])),
    )
    return det.DerivedKeySet(keys=[key], has_primary_config=True)


def test_it_decrypts_and_reproduces_ironcores_deterministic_field() -> None:
    case = CASES["deterministic-field"]
    keys = _keyset(case)
    encrypted = bytes.fromhex(case["encrypted_hex"])
    assert det.decrypt_with(keys, encrypted) == case["plaintext_utf8"].encode()
    assert det.encrypt_with(keys.current(), case["plaintext_utf8"].encode()) == encrypted


def test_it_rejects_a_deterministic_field_naming_an_unknown_secret_id() -> None:
    case = CASES["deterministic-field"]
    encrypted = bytearray.fromhex(case["encrypted_hex"])
    encrypted[3] ^= 1
    with pytest.raises(DecryptionError):
        det.decrypt_with(_keyset(case), encrypted)


def test_it_decrypts_a_legacy_field_with_an_empty_header() -> None:
    key = bytes(range(32))
    iv = bytes(12)
    body = AESGCM(key).encrypt(iv, b"written before headers", None)
    assert (
        fmt.decrypt_field(AESGCM(key), b"\x03IRON\x00\x00" + iv + body) == b"written before headers"
    )


@pytest.mark.parametrize("version", [0, 1, 2, 4, 5, 0xFF])
def test_it_refuses_unknown_format_versions_without_fallback(version: int) -> None:
    key = AESGCM(bytes(32))
    field = bytearray(fmt.encrypt_field(key, fmt.build_prefix(key, "t"), b"x"))
    field[0] = version
    with pytest.raises(DecryptionError, match="not an IronCore v3"):
        fmt.decrypt_field(key, field)


@pytest.mark.parametrize(("group", "case"), wycheproof_params("wycheproof/aes_gcm_test.json"))
def test_wycheproof_aes_gcm_through_the_library(group: dict, case: dict) -> None:
    key, iv = bytes.fromhex(case["key"]), bytes.fromhex(case["iv"])
    aad = bytes.fromhex(case["aad"]) or None
    data = bytes.fromhex(case["ct"] + case["tag"])
    if not 8 <= len(iv) <= 128:
        # The library itself refuses IVs outside 64..1024 bits, valid or not (C-01 policy).
        with pytest.raises(ValueError, match="Nonce"):
            AESGCM(key).decrypt(iv, data, aad)
    elif case["result"] == "valid":
        assert AESGCM(key).decrypt(iv, data, aad) == bytes.fromhex(case["msg"])
    else:
        with pytest.raises((InvalidTag, ValueError)):
            AESGCM(key).decrypt(iv, data, aad)


@pytest.mark.parametrize(("group", "case"), wycheproof_params("wycheproof/aes_gcm_test.json"))
def test_wycheproof_aes_gcm_through_the_sdk_format(group: dict, case: dict) -> None:
    """Every vector framed as a legacy v3 field; only 256-bit key, 96-bit IV, no AAD may open."""
    key = bytes.fromhex(case["key"])
    field = b"\x03IRON\x00\x00" + bytes.fromhex(case["iv"] + case["ct"] + case["tag"])
    usable = group["keySize"] == 256 and group["ivSize"] == 96 and not case["aad"]
    if usable and case["result"] == "valid":
        assert fmt.decrypt_field(AESGCM(key), field) == bytes.fromhex(case["msg"])
    elif len(key) == 32:
        # Invalid cases, and IVs other than 96 bits: the format has no way to express them.
        with pytest.raises(DecryptionError):
            fmt.decrypt_field(AESGCM(key), field)
    else:
        with pytest.raises(DecryptionError):
            fmt.DataKey(bytearray(key))


@pytest.mark.parametrize(("group", "case"), wycheproof_params("wycheproof/aes_siv_cmac_test.json"))
def test_wycheproof_aes_siv(group: dict, case: dict) -> None:
    """RFC 5297 AES-SIV as the SDK uses it. Wycheproof always passes one AD string (possibly
    empty), which S2V treats differently from none, so the SDK's no-AD fields are covered by
    IronCore's deterministic vector instead."""
    key = bytes.fromhex(case["key"])
    aad = [bytes.fromhex(case["aad"])]
    ct = bytes.fromhex(case["ct"])
    if case["result"] == "valid":
        assert AESSIV(key).decrypt(ct, aad) == bytes.fromhex(case["msg"])
        assert AESSIV(key).encrypt(bytes.fromhex(case["msg"]), aad) == ct
    else:
        with pytest.raises((InvalidTag, ValueError)):
            AESSIV(key).decrypt(ct, aad)


def test_it_reads_deterministic_fields_in_ironcore_alloys_empty_ad_form_but_writes_tsc_form() -> (
    None
):
    case = CASES["deterministic-field"]
    keys = _keyset(case)
    key = base64.b64decode(case["derived_key_b64"])
    alloy_form = struct.pack(">IH", 5111, 0) + AESSIV(key).encrypt(b"Jim Bridger", [b""])
    assert alloy_form != bytes.fromhex(case["encrypted_hex"])
    assert det.decrypt_with(keys, alloy_form) == b"Jim Bridger"
    assert det.encrypt_with(keys.current(), b"Jim Bridger") == bytes.fromhex(case["encrypted_hex"])
    with pytest.raises(DecryptionError):
        det.decrypt_with(keys, struct.pack(">IH", 5111, 0) + AESSIV(key).encrypt(b"x", [b"y"]))
