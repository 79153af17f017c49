from __future__ import annotations

import base64
import random

import pytest

from tenant_security_proxy.edek import (
    EncryptedDek,
    InvalidEdekError,
    decode_deks,
    decode_edek_b64,
    encode_deks,
    encode_edek_b64,
)

LEASED = EncryptedDek(
    encrypted_dek_data=b"\x01" * 48,
    kms_config_id=511,
    leased_key_id=609,
    leased_key_iv=b"\x02" * 12,
    encrypted_leased_key_data=(EncryptedDek(encrypted_dek_data=b"\x03" * 113, kms_config_id=511),),
    tenant_id="tenant-gcp-l",
)


def test_it_round_trips_a_leased_edek():
    assert decode_edek_b64(encode_edek_b64(LEASED)) == LEASED


def test_it_round_trips_an_unleased_edek_with_large_config_id():
    dek = EncryptedDek(encrypted_dek_data=b"x" * 184, kms_config_id=2**31 - 1)
    assert decode_deks(encode_deks([dek])) == (dek,)


def test_it_decodes_hand_made_bytes_with_the_ironcore_field_numbers():
    # EncryptedDeks{1: EncryptedDek{1: "ABC", 2: 538}}; 538 = varint 9a 04
    raw = bytes.fromhex("0a08") + bytes.fromhex("0a03414243") + bytes.fromhex("109a04")
    [dek] = decode_deks(raw)
    assert dek == EncryptedDek(encrypted_dek_data=b"ABC", kms_config_id=538)


def test_it_decodes_nested_leased_key_data_and_tenant_id():
    inner = bytes.fromhex("0a0201021007")  # {1: 0102, 2: 7}
    inner_deks = bytes([0x0A, len(inner)]) + inner
    dek = (
        bytes.fromhex("0a0130")  # data "0"
        + bytes.fromhex("1007")  # config 7
        + bytes.fromhex("1809")  # leased key 9
        + bytes([0x22, 12])
        + b"\x00" * 12  # iv
        + bytes([0x2A, len(inner_deks)])
        + inner_deks
        + bytes([0x32, 2])
        + b"t1"
    )
    raw = bytes([0x0A, len(dek)]) + dek
    [parsed] = decode_deks(raw)
    assert parsed.leased_key_id == 9
    assert parsed.tenant_id == "t1"
    assert parsed.encrypted_leased_key_data == (EncryptedDek(b"\x01\x02", 7),)


def test_encoding_matches_protobuf_byte_layout():
    raw = encode_deks([EncryptedDek(encrypted_dek_data=b"ABC", kms_config_id=538)])
    assert raw.hex() == "0a080a03414243109a04"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\xff\xff\xff", id="garbage"),
        pytest.param(bytes.fromhex("0a0a0a03414243"), id="truncated"),
        pytest.param(bytes.fromhex("0a050a03414243"), id="inner-truncated"),
        pytest.param(bytes.fromhex("0a0210 05"), id="missing-dek-data"),
        pytest.param(bytes.fromhex("0a050a014110 00"), id="zero-config-id"),
        pytest.param(bytes.fromhex("0a070a0141100512 00"), id="wrong-wire-type-for-field-2"),
        pytest.param(bytes.fromhex("0a070a014110053800"), id="unknown-field-7"),
        pytest.param(bytes.fromhex("0a070a014110051801"), id="leased-without-iv"),
        pytest.param(bytes.fromhex("12050a01411005"), id="wrong-outer-field"),
        pytest.param(bytes.fromhex("0d00000000"), id="fixed32-wire-type"),
        pytest.param(bytes.fromhex("0a070a01411005320" + "1ff"), id="tenant-id-not-utf8"),
    ],
)
def test_it_rejects_malformed_edeks_with_code_203(raw):
    with pytest.raises(InvalidEdekError) as info:
        decode_deks(raw)
    assert info.value.code == 203


@pytest.mark.parametrize("text", [None, "", "not base64!", 17, base64.b64encode(b"\x00").decode()])
def test_it_rejects_non_base64_or_empty_edek_strings(text):
    with pytest.raises(InvalidEdekError):
        decode_edek_b64(text)


def test_the_leased_template_encodes_exactly_like_the_generic_encoder():
    from tenant_security_proxy.edek import LeasedEdekTemplate

    template = LeasedEdekTemplate(
        EncryptedDek(
            b"",
            LEASED.kms_config_id,
            LEASED.leased_key_id,
            b"",
            LEASED.encrypted_leased_key_data,
            LEASED.tenant_id,
        )
    )
    assert template.encode_b64(LEASED.encrypted_dek_data, LEASED.leased_key_iv) == encode_edek_b64(
        LEASED
    )


# EDEKs published by IronCore (tenant-security-client-nodejs, examples/disaster-recovery-example),
# produced by IronCore's own TSP for its demo tenants `tenant-gcp` and `tenant-gcp-l`.
IRONCORE_UNLEASED = (
    "CnYKcQokAAWBd/PUwMPr6AwCCyvieKQneyKAIFtFkCSn/m0Yj9rFVeeiEkkA8xjtHi5I1mPeKaJP4pDZGwUEZl/EF+zA"
    "/dQsG5FT/dWFZd0AWOCsJ8fR2BluVvs6hmSKHEI+b1UFGgiCbcgSJKrXRKBQDZWXEP4D"
)
IRONCORE_LEASED = (
    "CsABCjBtYZ8SWWxWZWoeS7vz9bpz2T1jQJZVqOb2R/tQQV3KQUiERy9Qks4InVcbnCeWGLEQ/wMY4QQiDBXut/9Hpdor"
    "+7JwHCp4CnYKcQokAKUEZIeA4fMq5YOSdWX0kFcGvxZIeU3shB0QYKIHXrCzX1alEkkA3PhOjHTakyx7ScSCcJ16JvaQ"
    "I7pMwqudlT3M5BeedUR0lYBXEtPAYpfo4pcSGgnXdMsnB0+ziDGoZSO/sykLLDIvCMl8hvOuEP8D"
)


def test_it_decodes_an_unleased_edek_made_by_ironcores_tsp():
    dek = decode_edek_b64(IRONCORE_UNLEASED)
    assert (dek.kms_config_id, len(dek.encrypted_dek_data), dek.leased_key_id) == (510, 113, 0)
    assert encode_edek_b64(dek) == IRONCORE_UNLEASED  # and re-encodes byte for byte


def test_it_decodes_a_leased_edek_made_by_ironcores_tsp():
    dek = decode_edek_b64(IRONCORE_LEASED)
    assert (dek.kms_config_id, dek.leased_key_id) == (511, 609)
    assert (len(dek.encrypted_dek_data), len(dek.leased_key_iv)) == (48, 12)
    [elk] = dek.encrypted_leased_key_data
    assert (elk.kms_config_id, len(elk.encrypted_dek_data)) == (511, 113)
    assert encode_edek_b64(dek) == IRONCORE_LEASED


def test_a_leased_key_seen_before_is_still_refused_one_level_too_deep():
    decode_deks(encode_deks([LEASED]))  # its wrapped leased key is now a known (cached) parse
    too_deep = LEASED._replace(encrypted_leased_key_data=(LEASED,))
    with pytest.raises(InvalidEdekError):
        decode_deks(encode_deks([too_deep]))


def test_repeated_edeks_of_one_leased_key_decode_alike_and_the_parse_cache_is_bounded():
    from tenant_security_proxy import edek as module

    for i in range(module._LEASED_CACHE_MAX + 50):
        elk = (EncryptedDek(encrypted_dek_data=i.to_bytes(4, "big"), kms_config_id=511),)
        dek = LEASED._replace(encrypted_leased_key_data=elk)
        assert decode_edek_b64(encode_edek_b64(dek)) == dek
        assert decode_edek_b64(encode_edek_b64(dek)) == dek
    assert len(module._leased_cache) <= module._LEASED_CACHE_MAX


# ---- leased layouts (the unwrap fast path) ----------------------------------------------


def _leased(data: bytes, iv: bytes, **changes) -> EncryptedDek:
    return LEASED._replace(encrypted_dek_data=data, leased_key_iv=iv, **changes)


def _strict(text: str) -> EncryptedDek:
    return decode_deks(base64.b64decode(text))[0]


def test_edeks_of_a_known_leased_key_decode_exactly_as_the_strict_parser_does():
    from tenant_security_proxy import edek as module

    rng = random.Random(11)
    first = encode_edek_b64(_leased(rng.randbytes(48), rng.randbytes(12)))
    decode_edek_b64(first)  # learns the layout
    assert any(layout.tail.endswith(b"tenant-gcp-l") for layout in module._layouts.values())
    for _ in range(500):
        text = encode_edek_b64(_leased(rng.randbytes(48), rng.randbytes(12)))
        assert decode_edek_b64(text) == _strict(text)


@pytest.mark.parametrize(
    "changes",
    [
        {"kms_config_id": 512},  # same size, one byte of the middle differs
        {"leased_key_id": 610},
        {"tenant_id": "tenant-gcp-m"},  # the tail differs
        {
            "encrypted_leased_key_data": (
                LEASED.encrypted_leased_key_data[0]._replace(kms_config_id=7),
            )
        },
    ],
)
def test_an_edek_that_differs_from_a_known_layout_in_any_constant_field_is_parsed_in_full(
    changes,
):
    decode_edek_b64(encode_edek_b64(LEASED))
    other = _leased(b"\x05" * 48, b"\x06" * 12, **changes)
    assert decode_edek_b64(encode_edek_b64(other)) == other


def test_a_known_layout_never_lets_a_malformed_edek_through():
    from tenant_security_proxy import edek as module

    good = encode_deks([LEASED])
    decode_edek_b64(base64.b64encode(good).decode())
    assert module._layouts
    bad = [
        good[:-1] + b"\x00",  # last byte of the tenant id changed: not UTF-8 / other tenant
        good + b"\x0a\x00",  # trailing field: size differs
        good[:5] + b"\x01" * 4 + good[9:],  # inside the data: still valid, parsed in full below
        good.replace(b"\x22\x0c", b"\x22\x0b", 1),  # IV length field
    ]
    for raw in bad:
        text = base64.b64encode(raw).decode()
        try:
            expected = decode_deks(raw)[0]
        except InvalidEdekError:
            with pytest.raises(InvalidEdekError):
                decode_edek_b64(text)
        else:
            assert decode_edek_b64(text) == expected


def test_non_leased_and_multi_edek_messages_teach_no_layout_and_the_layouts_are_bounded():
    from tenant_security_proxy import edek as module

    module._layouts.clear()
    plain = EncryptedDek(b"\x01" * 300, 3, tenant_id="a-long-enough-tenant-id")
    decode_edek_b64(encode_edek_b64(plain))
    decode_edek_b64(base64.b64encode(encode_deks([LEASED, LEASED])).decode())
    assert not module._layouts
    for i in range(module._LAYOUT_CACHE_MAX + 20):
        dek = LEASED._replace(tenant_id=f"tenant-{i:06d}")
        assert decode_edek_b64(encode_edek_b64(dek)) == dek
    assert len(module._layouts) <= module._LAYOUT_CACHE_MAX
