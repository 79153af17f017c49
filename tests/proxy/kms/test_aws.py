"""aws-kms against moto's KMS/STS server, and against scripted AWS error answers for what moto
cannot produce (bad signatures, throttling, service errors)."""

from __future__ import annotations

import pytest

from tenant_security_proxy.kms import KmsError
from tests.proxy.kms.conftest import run
from tests.proxy.kms.netfaults import AwsErrorServer

pytestmark = pytest.mark.services

DEK = bytes(range(32))


def test_it_round_trips_a_dek_through_aws_kms(make_kms, aws_config):
    kms = make_kms(aws_config)
    data = run(kms.wrap(DEK))
    assert DEK not in data
    assert run(kms.unwrap(data)) == DEK
    run(kms.close())


def test_it_binds_the_tenant_id_in_the_encryption_context(make_kms, aws_config, moto_kms):
    data = run(make_kms(aws_config, tenant_id="tenant-a").wrap(DEK))
    decrypted = moto_kms.client().decrypt(
        CiphertextBlob=data, EncryptionContext={"tenantId": "tenant-a"}
    )
    assert decrypted["Plaintext"] == DEK
    with pytest.raises(KmsError) as caught:
        run(make_kms(aws_config, tenant_id="tenant-b").unwrap(data))
    assert caught.value.code == 205  # InvalidCiphertextException: context mismatch (P-07)


def test_it_refuses_a_ciphertext_made_under_another_key(make_kms, aws_config, moto_kms):
    data = run(make_kms(aws_config).wrap(DEK))
    other = {**aws_config, "key_arn": moto_kms.create_key()}
    with pytest.raises(KmsError) as caught:
        run(make_kms(other).unwrap(data))
    assert caught.value.code in (205, 207)


def test_it_reports_garbage_ciphertext_as_unwrap_failed(make_kms, aws_config):
    with pytest.raises(KmsError) as caught:
        run(make_kms(aws_config).unwrap(b"\x01\x02garbage"))
    assert caught.value.code == 205


def test_it_reports_a_missing_key_as_config_invalid(make_kms, aws_config):
    arn = aws_config["key_arn"].rsplit("/", 1)[0] + "/11111111-2222-3333-4444-555555555555"
    with pytest.raises(KmsError) as caught:
        run(make_kms({**aws_config, "key_arn": arn}).wrap(DEK))
    assert caught.value.code == 207


def test_it_accepts_a_key_id_with_a_region_instead_of_an_arn(make_kms, aws_config):
    key_id = aws_config["key_arn"].rsplit("/", 1)[1]
    config = {**aws_config, "key_arn": None, "key_id": key_id, "region": "us-east-1"}
    kms = make_kms(config)
    assert run(kms.unwrap(run(kms.wrap(DEK)))) == DEK


def test_it_assumes_the_tenant_role_with_the_external_id(make_kms, aws_config, moto_kms):
    config = {
        **aws_config,
        "role_arn": "arn:aws:iam::123456789012:role/opencmk-proxy",
        "external_id": "vendor-external-id",
        "sts_endpoint": moto_kms.endpoint,
    }
    kms = make_kms(config)
    assert run(kms.unwrap(run(kms.wrap(DEK)))) == DEK
    credentials = kms.provider._client._request_signer._credentials
    assert credentials.method == "sts-assume-role"
    assert credentials.access_key != aws_config["access_key_id"]  # temporary credentials


@pytest.mark.parametrize(
    ("status", "error_type", "code"),
    [
        (400, "UnrecognizedClientException", 206),
        (400, "com.amazonaws.kms#InvalidSignatureException", 206),
        (400, "AccessDeniedException", 207),
        (400, "DisabledException", 207),
        (400, "KMSInvalidStateException", 207),
        (400, "ThrottlingException", 209),
        (400, "SubscriptionRequiredException", 210),
        (500, "KMSInternalException", 208),
        (400, "InvalidCiphertextException", 205),
    ],
)
def test_it_classifies_aws_kms_errors(make_kms, aws_config, status, error_type, code):
    with AwsErrorServer(status, error_type) as server:
        kms = make_kms({**aws_config, "endpoint": server.endpoint})
        with pytest.raises(KmsError) as caught:
            run(kms.unwrap(b"blob"))
        assert caught.value.code == code
        assert server.requests == 1  # botocore's own retries are off; 2xx..5xx never retried
    assert "proxy-secret-access-key" not in caught.value.message


def test_it_reports_a_refused_assume_role_as_authorization_failed(make_kms, aws_config):
    with AwsErrorServer(403, "AccessDenied", query=True) as sts:
        config = {
            **aws_config,
            "role_arn": "arn:aws:iam::123456789012:role/revoked",
            "sts_endpoint": sts.endpoint,
        }
        with pytest.raises(KmsError) as caught:
            run(make_kms(config).wrap(DEK))
    assert caught.value.code == 206


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"key_arn": None}, "key_arn"),
        ({"key_arn": None, "key_id": "abc"}, "region"),
        ({"access_key_id": ""}, "access_key_id"),
        ({"secret_access_key": None}, "secret_access_key"),
        ({"external_id": "x"}, "role_arn"),
        ({"key_arn": "arn:aws:s3:::bucket"}, "key_arn"),
    ],
)
def test_it_rejects_a_config_missing_a_field_naming_the_field(make_kms, change, field):
    config = {
        "provider": "aws-kms",
        "key_arn": "arn:aws:kms:eu-west-1:123456789012:key/abc",
        "access_key_id": "AKIAEXAMPLE",
        "secret_access_key": "very-secret-value",
    }
    with pytest.raises(KmsError) as caught:
        make_kms({**config, **change})
    assert caught.value.code == 207
    assert f"'{field}'" in caught.value.message
    assert "very-secret-value" not in caught.value.message


def test_its_provider_repr_shows_no_credentials(make_kms, aws_config):
    kms = make_kms(aws_config)
    assert "proxy-secret-access-key" not in repr(kms)
    assert "proxy-secret-access-key" not in repr(kms.provider)
