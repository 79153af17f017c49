"""The SDK's public surface: pinned exports, docstrings, error tree, isolation from Django."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import tenant_security_client as tsc
from tenant_security_client import _exceptions

PINNED = [
    "AdminEvent", "AlreadyEncryptedError", "AsyncCachedKey", "AsyncTenantSecurityClient",
    "BatchResult", "CachedKey", "CachedKeyError", "ClientError", "ConfigurationError",
    "CustomEvent", "DataEvent", "DecryptionError", "DeterministicEncryptedField",
    "DeterministicPlaintextField", "EncryptedDocument", "InvalidEdekError", "InvalidRequestError",
    "KmsAccountError", "KmsAuthorizationError", "KmsConfigurationDisabledError",
    "KmsConfigurationInvalidError", "KmsError", "KmsThrottledError", "KmsUnreachableError",
    "KmsUnwrapError", "KmsWrapError", "NoPrimaryKmsConfigurationError", "PeriodicEvent",
    "PlaintextDocument", "ProxyError", "RequestMetadata", "RequestTimeoutError", "RetryPolicy",
    "SecurityEvent", "SecurityEventRejectedError", "TenantSecurityClient", "TenantSecurityError",
    "Timeouts", "TransportError", "UnauthorizedError", "UnknownTenantError", "UserEvent",
    "__version__", "derive_key", "is_encrypted",
]  # fmt: skip


def test_all_is_sorted_and_pinned() -> None:
    assert tsc.__all__ == sorted(tsc.__all__)
    assert tsc.__all__ == PINNED


def test_every_public_name_and_public_method_has_a_docstring() -> None:
    for name in tsc.__all__:
        obj = getattr(tsc, name)
        if name in ("__version__", "SecurityEvent"):
            continue
        assert inspect.getdoc(obj), name
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and callable(member):
                    assert inspect.getdoc(member), f"{name}.{attr}"


def test_importing_the_sdk_loads_neither_django_nor_the_proxy() -> None:
    code = (
        "import tenant_security_client, sys; "
        "assert not any(m.startswith(('django','tenant_security_proxy')) for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_exception_derives_from_the_root_and_is_named_error() -> None:
    for name in _exceptions.__all__:
        obj = getattr(_exceptions, name)
        if inspect.isclass(obj):
            assert issubclass(obj, tsc.TenantSecurityError)
            assert name.endswith("Error")
            assert name in (_exceptions.__doc__ or ""), f"{name} missing from the documented tree"


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (101, tsc.UnauthorizedError),
        (102, tsc.InvalidRequestError),
        (150, tsc.ProxyError),
        (200, tsc.NoPrimaryKmsConfigurationError),
        (201, tsc.UnknownTenantError),
        (202, tsc.KmsConfigurationDisabledError),
        (203, tsc.InvalidEdekError),
        (204, tsc.KmsWrapError),
        (205, tsc.KmsUnwrapError),
        (206, tsc.KmsAuthorizationError),
        (207, tsc.KmsConfigurationInvalidError),
        (208, tsc.KmsUnreachableError),
        (209, tsc.KmsThrottledError),
        (210, tsc.KmsAccountError),
        (299, tsc.KmsError),
        (301, tsc.SecurityEventRejectedError),
    ],
)
def test_proxy_error_codes_map_onto_the_tree(code: int, cls: type) -> None:
    error = _exceptions.error_from_code(code, "boom")
    assert type(error) is cls
    assert error.code == code
    assert error.message == "boom"


def test_metadata_requires_tenant_and_requesting_id_and_freezes_custom_fields() -> None:
    with pytest.raises(tsc.ConfigurationError):
        tsc.RequestMetadata(tenant_id="", requesting_id="svc")
    with pytest.raises(tsc.ConfigurationError):
        tsc.RequestMetadata(tenant_id="t", requesting_id="")
    fields = {"k": "v"}
    meta = tsc.RequestMetadata(tenant_id="t", requesting_id="svc", custom_fields=fields)
    fields["k"] = "changed"
    assert meta.to_body() == {
        "tenantId": "t",
        "iclFields": {"requestingId": "svc"},
        "customFields": {"k": "v"},
    }


def test_metadata_sends_every_optional_field_it_has() -> None:
    meta = tsc.RequestMetadata(
        tenant_id="t", requesting_id="u", data_label="PII", source_ip="10.0.0.1",
        object_id="o1", request_id="r1",
    )  # fmt: skip
    assert meta.to_body(event="USER_LOGIN")["iclFields"] == {
        "requestingId": "u",
        "dataLabel": "PII",
        "sourceIp": "10.0.0.1",
        "objectId": "o1",
        "requestId": "r1",
        "event": "USER_LOGIN",
    }


def test_custom_events_must_be_screaming_snake_case() -> None:
    assert tsc.CustomEvent("INVOICE_SENT") == "CUSTOM_INVOICE_SENT"
    for bad in ("invoice", "_LEADING", "WITH SPACE", ""):
        with pytest.raises(tsc.ConfigurationError):
            tsc.CustomEvent(bad)
    assert tsc.UserEvent.LOGIN == "USER_LOGIN"
    assert tsc.PeriodicEvent.CREATE_BACKUP == "PERIODIC_CREATE_BACKUP"


def test_plain_http_is_refused_unless_explicitly_allowed() -> None:
    with pytest.raises(tsc.ConfigurationError, match="plain HTTP"):
        tsc.TenantSecurityClient("http://127.0.0.1:7777", "key")
    with pytest.raises(tsc.ConfigurationError, match="plain HTTP"):
        tsc.AsyncTenantSecurityClient("http://127.0.0.1:7777", "key")
    tsc.TenantSecurityClient("http://127.0.0.1:7777", "key", allow_insecure_http=True).close()
    tsc.TenantSecurityClient("https://tsp.example:7777", "key").close()


def test_reprs_never_show_keys_or_plaintext() -> None:
    doc = tsc.PlaintextDocument({"ssn": bytearray(b"123-45-6789")}, edek="EDEKSECRET")
    assert "123" not in repr(doc) and "EDEKSECRET" not in repr(doc)
    client = tsc.TenantSecurityClient("https://tsp:7777", "API-KEY-123")
    assert "API-KEY-123" not in repr(client)
    client.close()
