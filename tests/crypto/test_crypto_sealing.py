from __future__ import annotations

import copy
import hashlib
from typing import Any

import nacl.bindings
import nacl.public
import pytest

from opencmk_crypto import (
    OrgKeys,
    SealError,
    add_recipient,
    associated_data,
    b64d,
    b64e,
    content_digest,
    kid,
    open_config,
    seal_config,
    validate_sealed_structure,
)

CONFIG = b'{"provider":"vault-transit","token":"s.canary-secret"}'


@pytest.fixture
def sealed(tenant_root: OrgKeys, cluster_keys: OrgKeys) -> dict[str, Any]:
    return seal_config(
        kind="kms",
        tenant_id="tenant-1",
        config_id=17,
        plaintext=CONFIG,
        recipients=[tenant_root.encryption_public, cluster_keys.encryption_public],
    )


def test_sealed_config_has_design_shape(sealed: dict[str, Any], cluster_keys: OrgKeys) -> None:
    assert set(sealed) == {
        "v",
        "kind",
        "tenant_id",
        "config_id",
        "nonce",
        "ciphertext",
        "recipients",
    }
    assert sealed["v"] == 1 and sealed["config_id"] == 17
    assert len(b64d(sealed["nonce"])) == 24
    assert len(b64d(sealed["ciphertext"])) == len(CONFIG) + 16
    assert sealed["recipients"][1]["kid"] == kid(cluster_keys.encryption_public)
    assert b"canary" not in repr(sealed).encode()
    validate_sealed_structure(sealed)


def test_every_listed_recipient_opens_it(
    sealed: dict[str, Any], tenant_root: OrgKeys, cluster_keys: OrgKeys
) -> None:
    for keys in (tenant_root, cluster_keys):
        assert open_config(sealed, private_key=keys.encryption_key) == CONFIG


def test_expected_header_values_are_accepted_when_they_match(
    sealed: dict[str, Any], cluster_keys: OrgKeys
) -> None:
    plaintext = open_config(
        sealed,
        private_key=cluster_keys.encryption_key,
        tenant_id="tenant-1",
        config_id=17,
        kind="kms",
    )
    assert plaintext == CONFIG


def test_an_unlisted_key_cannot_open_it(sealed: dict[str, Any]) -> None:
    with pytest.raises(SealError, match="not addressed"):
        open_config(sealed, private_key=nacl.public.PrivateKey.generate())


def test_relabelled_recipient_kid_does_not_let_another_key_open_it(
    sealed: dict[str, Any],
) -> None:
    mallory = nacl.public.PrivateKey.generate()
    sealed["recipients"][0]["kid"] = kid(bytes(mallory.public_key))
    with pytest.raises(SealError):
        open_config(sealed, private_key=mallory)


@pytest.mark.parametrize(
    ("field", "value"),
    [("tenant_id", "tenant-2"), ("config_id", 18), ("kind", "logging")],
)
def test_header_swap_in_the_blob_fails_the_ad(
    sealed: dict[str, Any], cluster_keys: OrgKeys, field: str, value: Any
) -> None:
    swapped = dict(sealed, **{field: value})
    with pytest.raises(SealError, match="does not decrypt"):
        open_config(swapped, private_key=cluster_keys.encryption_key)


@pytest.mark.parametrize(
    ("field", "value"),
    [("tenant_id", "tenant-2"), ("config_id", 18), ("kind", "logging")],
)
def test_blob_served_for_another_tenant_config_or_kind_is_refused(
    sealed: dict[str, Any], cluster_keys: OrgKeys, field: str, value: Any
) -> None:
    with pytest.raises(SealError, match="expected"):
        open_config(sealed, private_key=cluster_keys.encryption_key, **{field: value})


def test_ciphertext_from_another_tenant_config_fails(
    tenant_root: OrgKeys, cluster_keys: OrgKeys
) -> None:
    recipients = [cluster_keys.encryption_public]
    a = seal_config(
        kind="kms", tenant_id="tenant-a", config_id=1, plaintext=CONFIG, recipients=recipients
    )
    b = seal_config(
        kind="kms", tenant_id="tenant-b", config_id=1, plaintext=b"{}", recipients=recipients
    )
    # Serve tenant A's sealed body under tenant B's header.
    frankenstein = dict(b, nonce=a["nonce"], ciphertext=a["ciphertext"], recipients=a["recipients"])
    with pytest.raises(SealError):
        open_config(frankenstein, private_key=cluster_keys.encryption_key, tenant_id="tenant-b")


@pytest.mark.parametrize("field", ["nonce", "ciphertext"])
def test_flipped_byte_fails(sealed: dict[str, Any], cluster_keys: OrgKeys, field: str) -> None:
    raw = bytearray(b64d(sealed[field]))
    for index in range(len(raw)):
        raw[index] ^= 0x80
        with pytest.raises(SealError):
            open_config(
                dict(sealed, **{field: b64e(bytes(raw))}), private_key=cluster_keys.encryption_key
            )
        raw[index] ^= 0x80


def test_ciphertext_uses_xchacha20poly1305_with_design_ad(
    sealed: dict[str, Any], cluster_keys: OrgKeys
) -> None:
    ad = associated_data("tenant-1", 17, "kms")
    assert ad == b"OpenCMK/1/sealed-config\ntenant-1\n17\nkms"
    cek = nacl.public.SealedBox(cluster_keys.encryption_key).decrypt(
        b64d(sealed["recipients"][1]["sealed_key"])
    )
    plaintext = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
        b64d(sealed["ciphertext"]), ad, b64d(sealed["nonce"]), cek
    )
    assert plaintext == CONFIG


def test_content_digest_is_sha256_of_nonce_and_ciphertext(sealed: dict[str, Any]) -> None:
    expected = hashlib.sha256(b64d(sealed["nonce"]) + b64d(sealed["ciphertext"])).digest()
    assert content_digest(sealed) == b64e(expected)
    other = dict(sealed, ciphertext=b64e(b64d(sealed["ciphertext"])[:-1] + b"\0"))
    assert content_digest(other) != content_digest(sealed)


def test_each_seal_uses_a_fresh_cek_and_nonce(cluster_keys: OrgKeys) -> None:
    blobs = [
        seal_config(
            kind="kms",
            tenant_id="t",
            config_id=1,
            plaintext=CONFIG,
            recipients=[cluster_keys.encryption_public],
        )
        for _ in range(2)
    ]
    assert blobs[0]["nonce"] != blobs[1]["nonce"]
    ceks = [
        nacl.public.SealedBox(cluster_keys.encryption_key).decrypt(
            b64d(b["recipients"][0]["sealed_key"])
        )
        for b in blobs
    ]
    assert ceks[0] != ceks[1]


def test_add_recipient_keeps_content_and_lets_the_new_key_open(
    sealed: dict[str, Any], tenant_root: OrgKeys
) -> None:
    newcomer = OrgKeys.generate()
    original = copy.deepcopy(sealed)
    extended = add_recipient(
        sealed, private_key=tenant_root.encryption_key, new_public_key=newcomer.encryption_public
    )
    assert sealed == original  # input not mutated
    assert content_digest(extended) == content_digest(sealed)
    assert extended["nonce"] == sealed["nonce"]
    assert len(extended["recipients"]) == 3
    assert open_config(extended, private_key=newcomer.encryption_key) == CONFIG
    again = add_recipient(
        extended, private_key=tenant_root.encryption_key, new_public_key=newcomer.encryption_public
    )
    assert again == extended


def test_add_recipient_requires_a_key_that_opens_it(sealed: dict[str, Any]) -> None:
    with pytest.raises(SealError):
        add_recipient(
            sealed,
            private_key=nacl.public.PrivateKey.generate(),
            new_public_key=OrgKeys.generate().encryption_public,
        )


@pytest.mark.parametrize(
    "change",
    [
        {"v": 2},
        {"v": True},
        {"kind": "other"},
        {"tenant_id": ""},
        {"config_id": 0},
        {"config_id": 2**31},
        {"config_id": "17"},
        {"config_id": True},
        {"nonce": b64e(bytes(12))},
        {"ciphertext": b64e(bytes(15))},
        {"recipients": []},
        {"extra": 1},
        {"nonce": "!!"},
    ],
    ids=lambda c: "-".join(f"{k}={v!r}"[:24] for k, v in c.items()),
)
def test_structure_validation_rejects_malformed_blobs(
    sealed: dict[str, Any], change: dict[str, Any]
) -> None:
    with pytest.raises(SealError):
        validate_sealed_structure({**sealed, **change})


@pytest.mark.parametrize(
    "recipient",
    [
        {"kid": "ZZ", "sealed_key": b64e(bytes(80))},
        {"kid": "0" * 32, "sealed_key": b64e(bytes(79))},
        {"kid": "0" * 32},
        {"kid": "0" * 32, "sealed_key": b64e(bytes(80)), "x": 1},
    ],
    ids=["bad-kid", "short-sealed-key", "missing-sealed-key", "extra-field"],
)
def test_structure_validation_rejects_malformed_recipients(
    sealed: dict[str, Any], recipient: dict[str, Any]
) -> None:
    with pytest.raises(SealError):
        validate_sealed_structure({**sealed, "recipients": [recipient]})


def test_structure_validation_rejects_duplicate_recipient(sealed: dict[str, Any]) -> None:
    first = sealed["recipients"][0]
    with pytest.raises(SealError):
        validate_sealed_structure({**sealed, "recipients": [first, first]})


def test_seal_rejects_bad_inputs(cluster_keys: OrgKeys) -> None:
    good: dict[str, Any] = {
        "kind": "kms",
        "tenant_id": "t",
        "config_id": 1,
        "plaintext": b"x",
        "recipients": [cluster_keys.encryption_public],
    }
    for change in (
        {"recipients": []},
        {"recipients": [bytes(31)]},
        {"recipients": [cluster_keys.encryption_public] * 2},
        {"plaintext": "str"},
        {"plaintext": bytes(64 * 1024 + 1)},
        {"kind": "KMS"},
        {"config_id": -1},
    ):
        with pytest.raises(SealError):
            seal_config(**{**good, **change})
