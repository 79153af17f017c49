from __future__ import annotations

import base64


def test_openbao_fixture_encrypts_with_a_derived_transit_key(openbao):
    openbao.create_transit_key("smoke")
    ctx = base64.b64encode(b"tenant-a").decode()
    answer = openbao.request(
        "POST",
        "transit/encrypt/smoke",
        {"plaintext": base64.b64encode(b"x").decode(), "context": ctx},
    )
    assert openbao.decrypt_with_context("smoke", answer["data"]["ciphertext"], "tenant-a") == b"x"


def test_moto_fixture_creates_a_usable_key(moto_kms):
    arn = moto_kms.create_key()
    kms = moto_kms.client()
    blob = kms.encrypt(KeyId=arn, Plaintext=b"x")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
