"""azure-key-vault through azure-keyvault-keys and azure-identity against
tests/fakes/azure_key_vault.py (HTTPS, throw-away CA).

What the fake stands in for: the vault and Microsoft Entra ID. The production path is not
bypassed: the provider builds a real ClientSecretCredential (the config's `authority` points
it at the fake's token endpoint) and real KeyClient/CryptographyClient objects; the only
test-specific inputs are the CA file (`ca_file`) and the fake's 127.0.0.1 URLs, for which the
provider turns off challenge-resource checking (as it does for any non-Azure vault host).
"""

from __future__ import annotations

import pytest

from tenant_security_proxy.kms import KmsError
from tenant_security_proxy.kms.azure import decode_envelope, encode_envelope
from tests.proxy.kms.conftest import run

pytestmark = pytest.mark.services

DEK = bytes(range(32))


@pytest.fixture
def make_azure(make_kms, azure_config, azure_ca):
    def make(tenant_id: str = "tenant-a", **change):
        return make_kms({**azure_config, **change}, tenant_id=tenant_id, ca_file=azure_ca)

    return make


def test_it_round_trips_a_dek_through_key_vault(make_azure, azure, azure_config):
    kms = make_azure()
    data = run(kms.wrap(DEK))
    assert run(kms.unwrap(data)) == DEK
    unwraps = [p for m, p in azure.requests if p.endswith("/unwrapkey?api-version=2025-07-01")]
    assert len(unwraps) == 1
    assert unwraps[0].startswith(f"/keys/{azure_config['key_name']}/")
    run(kms.close())


def test_it_keeps_the_key_version_in_the_wrapped_bytes(make_azure, azure, azure_config):
    version = azure.rotate_key(azure_config["key_name"])
    wrapped, stored_version, fmt = decode_envelope(run(make_azure().wrap(DEK)))
    assert stored_version == version
    assert len(wrapped) == 256  # RSA-2048 OAEP output
    assert fmt == 1


def test_it_unwraps_with_the_old_version_after_the_key_is_rotated(make_azure, azure, azure_config):
    kms = make_azure(key_refresh_s=0)  # look the current version up on every wrap
    old = run(kms.wrap(DEK))
    new_version = azure.rotate_key(azure_config["key_name"])
    new = run(kms.wrap(DEK))
    assert decode_envelope(new)[1] == new_version
    assert decode_envelope(old)[1] != new_version
    assert run(kms.unwrap(old)) == DEK
    assert run(kms.unwrap(new)) == DEK


def test_it_binds_the_tenant_id_inside_the_wrapped_plaintext(make_azure):
    data = run(make_azure(tenant_id="tenant-a").wrap(DEK))
    with pytest.raises(KmsError) as caught:
        run(make_azure(tenant_id="tenant-b").unwrap(data))
    assert caught.value.code == 205  # P-07
    assert "different tenant" in caught.value.message


def test_it_reports_a_wrong_client_secret_as_authorization_failed(make_azure):
    with pytest.raises(KmsError) as caught:
        run(make_azure(client_secret="wrong-client-secret").wrap(DEK))
    assert caught.value.code == 206
    assert "wrong-client-secret" not in caught.value.message


def test_it_reports_a_missing_key_as_config_invalid(make_azure):
    with pytest.raises(KmsError) as caught:
        run(make_azure(key_name="no-such-key").wrap(DEK))
    assert caught.value.code == 207


def test_it_reports_a_missing_unwrap_permission_as_config_invalid(make_azure, azure, azure_config):
    data = run(make_azure().wrap(DEK))
    azure.deny("unwrapKey", azure_config["key_name"])
    with pytest.raises(KmsError) as caught:
        run(make_azure().unwrap(data))
    assert caught.value.code == 207


def test_it_reports_throttling_without_retrying(make_azure, azure):
    kms = make_azure()
    data = run(kms.wrap(DEK))
    run(kms.unwrap(data))  # the SDK's one-time key GET for this version is behind us
    azure.fail_next(429, "Throttled", "Request was not processed because too many requests")
    before = len(azure.requests)
    with pytest.raises(KmsError) as caught:
        run(kms.unwrap(data))
    assert caught.value.code == 209
    unwrap_calls = [p for _, p in azure.requests[before:] if "unwrapkey" in p]
    assert len(unwrap_calls) == 1


def test_it_reports_a_tampered_wrapped_key_as_unwrap_failed(make_azure):
    kms = make_azure()
    wrapped, version, _ = decode_envelope(run(kms.wrap(DEK)))
    tampered = encode_envelope(bytes([wrapped[0] ^ 1]) + wrapped[1:], version)
    with pytest.raises(KmsError) as caught:
        run(kms.unwrap(tampered))
    assert caught.value.code == 205


@pytest.mark.parametrize("garbage", [b"", b"garbage", b"\x0a\xff\xff\xff"], ids=repr)
def test_it_reports_garbage_as_unwrap_failed_without_calling_the_vault(make_azure, azure, garbage):
    with pytest.raises(KmsError) as caught:
        run(make_azure().unwrap(garbage))
    assert caught.value.code == 205
    assert azure.requests == []


def test_it_does_not_trust_the_vault_certificate_without_the_ca(make_kms, azure_config):
    with pytest.raises(KmsError) as caught:
        run(make_kms(azure_config).wrap(DEK))  # no ca_file: system roots only
    assert caught.value.code == 208


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"vault_url": None}, "vault_url"),
        ({"key_name": ""}, "key_name"),
        ({"tenant_id": None}, "tenant_id"),
        ({"client_id": None}, "client_id"),
        ({"client_secret": ""}, "client_secret"),
        ({"vault_url": "http://vault.example"}, "vault_url"),
        ({"key_name": "a/b"}, "key_name"),
    ],
)
def test_it_rejects_a_config_missing_a_field_naming_the_field(make_kms, change, field):
    config = {
        "provider": "azure-key-vault",
        "vault_url": "https://tenant.vault.azure.net",
        "key_name": "cmk",
        "tenant_id": "00000000-0000-0000-0000-000000000001",
        "client_id": "00000000-0000-0000-0000-000000000002",
        "client_secret": "super-secret-client-secret",
    }
    with pytest.raises(KmsError) as caught:
        make_kms({**config, **change})
    assert caught.value.code == 207
    assert f"'{field}'" in caught.value.message
    assert "super-secret-client-secret" not in caught.value.message


def test_its_envelope_codec_round_trips_and_rejects_truncation():
    data = encode_envelope(b"\x01" * 300, "0123456789abcdef0123456789abcdef")
    assert decode_envelope(data) == (b"\x01" * 300, "0123456789abcdef0123456789abcdef", 1)
    with pytest.raises(ValueError):
        decode_envelope(data[:-40])
