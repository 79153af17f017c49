"""Client event names: IronCore's vocabulary is accepted, anything else is rejected with 301."""

from __future__ import annotations

import pytest

from tenant_security_proxy.errors import ProxyError
from tenant_security_proxy.events import EventRejectedError, names, validate_client_event

IRONCORE_CLIENT_EVENTS = [
    "USER_ADD",
    "USER_LOGIN",
    "USER_TIMEOUT_SESSION",
    "USER_REQUEST_EMAIL_VERIFICATION",
    "USER_VERIFY_EMAIL",
    "ADMIN_ADD",
    "ADMIN_CHANGE_SETTING",
    "DATA_IMPORT",
    "DATA_DENY_ACCESS",
    "DATA_CHANGE_PERMISSIONS",
    "PERIODIC_ENFORCE_RETENTION_POLICY",
    "PERIODIC_CREATE_BACKUP",
    "CUSTOM_A",
    "CUSTOM_CUSTOMER_EXPORTED_REPORT",
    "CUSTOM_TRAILING_",
]


@pytest.mark.parametrize("name", IRONCORE_CLIENT_EVENTS)
def test_it_accepts_every_event_family_ironcore_clients_send(name):
    assert validate_client_event(name) == name


def test_the_vocabulary_has_the_sizes_of_ironcore_enums():
    sizes = [len(s) for s in (names.USER_EVENTS, names.ADMIN_EVENTS, names.DATA_EVENTS)]
    assert sizes == [17, 4, 8] and len(names.PERIODIC_EVENTS) == 2


@pytest.mark.parametrize("name", ["ENFORCE_RETENTION_POLICY", "CREATE_BACKUP"])
def test_it_normalises_the_go_clients_unprefixed_periodic_events(name):
    assert validate_client_event(name) == "PERIODIC_" + name


@pytest.mark.parametrize(
    "name",
    [
        "",
        None,
        42,
        "user_login",
        "USER_HACKED",
        "ADMIN_",
        "DATA_ENCRYPT ",
        "CUSTOM_",
        "CUSTOM__LEADING_UNDERSCORE",
        "CUSTOM_lower",
        "CUSTOM_WITH9DIGIT",
        "CUSTOM_WITH-DASH",
        "CUSTOM_NEW\nLINE",
        "CUSTOM_" + "A" * 200,
        "KMS_WRAP",  # proxy-generated names cannot be forged by clients
        "EVENTS_DROPPED",
        "<script>",
    ],
)
def test_it_rejects_garbage_with_code_301(name):
    with pytest.raises(EventRejectedError) as info:
        validate_client_event(name)
    assert isinstance(info.value, ProxyError)
    assert info.value.code == 301 and info.value.http_status == 400


def test_a_rejection_message_never_repeats_the_submitted_name():
    with pytest.raises(EventRejectedError) as info:
        validate_client_event("CUSTOM_<img src=x onerror=alert(1)>")
    assert "<img" not in info.value.message and "<img" not in str(info.value)
