"""API keys: hashed at rest, verified in constant time, rotated, revoked, expired, audited."""

from __future__ import annotations

import hashlib
import io
import logging
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.core import serializers as django_serializers
from django.utils import timezone
from freezegun import freeze_time

from apikeys import authentication, services
from apikeys.models import ApiKey
from apikeys.services import TooManyKeysError, api_key_create, api_key_revoke
from audit.actors import Actor
from audit.models import AuditEvent
from tests.api.conftest import ApiClient, make_key

SYSTEM = Actor.system("test")
TENANTS = "/api/v1/vendor/tenants"


def test_only_the_hash_of_a_key_is_stored_and_the_key_is_never_shown_again(
    acme: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key, secret = api_key_create(actor=SYSTEM, vendor=acme, name="ci")
    dump = io.StringIO()
    for model in (ApiKey, AuditEvent):
        dump.write(django_serializers.serialize("json", model.objects.all()))
    assert secret not in dump.getvalue()
    assert secret[len(key.prefix) :] not in dump.getvalue()  # not even the secret part
    assert key.hash == hashlib.sha256(secret.encode()).hexdigest()
    assert key.prefix in dump.getvalue()
    assert secret not in caplog.text and secret not in repr(key)


def test_verification_uses_compare_digest_via_the_prefix_index(acme: Any) -> None:
    secret = make_key(acme)
    with mock.patch.object(
        authentication.hmac, "compare_digest", wraps=authentication.hmac.compare_digest
    ) as spy:
        assert authentication.verify_key(secret) is not None
    spy.assert_called_once()
    assert spy.call_args.args[1] == hashlib.sha256(secret.encode()).hexdigest()


def test_a_wrong_prefix_also_runs_a_digest_comparison(acme: Any) -> None:
    # K-03: an unknown prefix and a known prefix with a wrong secret do the same work.
    from apikeys import tokens

    secret = make_key(acme)
    forged_body = secret[:-10] + ("A" if secret[-10] != "A" else "B") + secret[-9:-6]
    forged = forged_body + tokens._checksum(forged_body)
    unknown_body = "ocv_" + "Z" * 30
    unknown = unknown_body + tokens._checksum(unknown_body)
    for candidate in (forged, unknown):
        with mock.patch.object(
            authentication.hmac, "compare_digest", wraps=authentication.hmac.compare_digest
        ) as spy:
            assert authentication.verify_key(candidate) is None
        spy.assert_called_once()


def test_two_live_keys_allow_rotation_and_a_third_is_refused(acme: Any) -> None:
    first, second = make_key(acme), make_key(acme)
    with pytest.raises(TooManyKeysError):
        make_key(acme)
    assert ApiClient(first).get(TENANTS).status_code == 200
    assert ApiClient(second).get(TENANTS).status_code == 200
    api_key_revoke(actor=SYSTEM, key=ApiKey.objects.get(prefix=first[:12]))
    assert make_key(acme)  # revoking one frees a slot


def test_a_revoked_key_is_refused_on_the_next_request(acme: Any) -> None:
    secret = make_key(acme)
    client = ApiClient(secret)
    assert client.get(TENANTS).status_code == 200
    api_key_revoke(actor=SYSTEM, key=ApiKey.objects.get(prefix=secret[:12]))
    response = client.get(TENANTS)
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed"
    refused = AuditEvent.objects.filter(action="api_key.refused").get()
    assert refused.actor_id == secret[:12] and refused.data["reason"] == "revoked"


def test_an_expired_key_is_refused_and_does_not_count_as_live(acme: Any) -> None:
    secret = make_key(acme, expires_at=timezone.now() + timedelta(days=1))
    with freeze_time(timezone.now() + timedelta(days=2)):
        assert ApiClient(secret).get(TENANTS).status_code == 401
        make_key(acme)
        make_key(acme)  # the expired key no longer takes a slot


def test_keys_of_one_tenant_do_not_take_the_vendors_slots(acme: Any, globex: Any) -> None:
    make_key(acme), make_key(acme)
    assert make_key(acme, globex).startswith("oct_")


@pytest.mark.parametrize("param", ["api_key", "token", "anything"])
def test_a_key_in_the_url_is_refused_and_not_logged(
    acme: Any, param: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = make_key(acme)
    for client in (ApiClient(None), ApiClient(secret)):
        response = client.get(f"{TENANTS}?{param}={secret}")
        assert response.status_code == 400
        assert response.json()["error"] == "key_in_url"
    assert secret not in caplog.text
    assert not [e for e in AuditEvent.objects.all() if secret in str(e.data) + e.target_id]


def test_each_use_is_audited_with_the_prefix_and_last_use_is_recorded(acme: Any) -> None:
    secret = make_key(acme)
    client = ApiClient(secret)
    client.get(TENANTS, REMOTE_ADDR="192.0.2.10")
    key = ApiKey.objects.get(prefix=secret[:12])
    assert key.last_used_ip == "192.0.2.10" and key.last_used_at is not None
    client.get(TENANTS, REMOTE_ADDR="192.0.2.10")
    client.get(TENANTS, REMOTE_ADDR="198.51.100.7")
    events = list(AuditEvent.objects.filter(action="api.request").order_by("seq"))
    assert [e.actor_id for e in events] == [secret[:12]] * 3
    assert [e.data["new_ip"] for e in events] == [True, False, True]
    assert [e.ip for e in events] == ["192.0.2.10", "192.0.2.10", "198.51.100.7"]
    assert all(secret not in str(e.data) for e in events)
    key.refresh_from_db()
    assert key.last_used_ip == "198.51.100.7"


def test_last_use_is_written_at_most_once_a_minute_from_one_address(acme: Any) -> None:
    key, _ = api_key_create(actor=SYSTEM, vendor=acme, name="ci")
    services.api_key_touch(key=key, ip="192.0.2.1")
    with mock.patch.object(ApiKey.objects, "filter") as update:
        services.api_key_touch(key=key, ip="192.0.2.1")
    update.assert_not_called()


def test_scopes_limit_a_key_to_its_purpose(acme: Any, globex: Any) -> None:
    read_only = ApiClient(make_key(acme, scopes=["tenants:read"]))
    assert read_only.get(TENANTS).status_code == 200
    refused = read_only.post(TENANTS, {"tenant_id": "x", "name": "X"})
    assert refused.status_code == 403 and refused.json()["error"] == "permission_denied"
    assert read_only.get("/api/v1/vendor/audit-events").status_code == 403
    with pytest.raises(services.ApiKeyError):
        make_key(acme, globex, scopes=["tenants:write"])  # not a tenant key's scope


def test_a_malformed_authorization_header_is_401_with_the_error_format(db: None) -> None:
    for header in ("Bearer nope", "Basic dXNlcjpwYXNz", "Bearer ocv_" + "A" * 36):
        response = ApiClient(None).get(TENANTS, HTTP_AUTHORIZATION=header)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert set(response.json()) == {"error", "detail", "fields"}
