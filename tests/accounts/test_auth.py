"""Sign-up, verification, login, rate limits, password reset, MFA at login, re-authentication."""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.broker.factories import PASSWORD, UserFactory, enrol_totp, login

pytestmark = pytest.mark.django_db


def _link(message: Any) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/[^\s]+)", message.body)
    assert match, message.body
    return match.group(1)


def _totp_now(secret: str) -> str:
    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret, counter))


def test_sign_up_requires_email_verification_before_login(client: Client, mailoutbox: Any) -> None:
    response = client.post(
        reverse("account_signup"),
        {
            "email": "erin@example.test",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert client.get(reverse("home")).status_code == 302  # not logged in yet

    confirm = client.post(_link(mailoutbox[0]))
    assert confirm.status_code == 302
    login_response = client.post(
        reverse("account_login"),
        {"login": "erin@example.test", "password": "a long enough passphrase"},
    )

    assert login_response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert User.objects.get(email="erin@example.test").emailaddress_set.get().verified


def test_short_and_common_passwords_are_refused_at_sign_up(client: Client) -> None:
    response = client.post(
        reverse("account_signup"),
        {"email": "x@example.test", "password1": "password123", "password2": "password123"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert "too short" in html or "too common" in html
    assert not User.objects.filter(email="x@example.test").exists()


def test_unverified_user_cannot_log_in(client: Client, mailoutbox: Any) -> None:
    UserFactory(email="frank@example.test", verified=False)

    client.post(reverse("account_login"), {"login": "frank@example.test", "password": PASSWORD})

    assert client.get(reverse("home")).status_code == 302


def test_sixth_failed_login_is_rate_limited(client: Client, db: None) -> None:
    UserFactory(email="gina@example.test")
    statuses = []
    for _ in range(6):
        response = client.post(
            reverse("account_login"), {"login": "gina@example.test", "password": "wrong password!"}
        )
        statuses.append(response.status_code)

    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429


def test_password_reset_by_email_link(client: Client, mailoutbox: Any) -> None:
    UserFactory(email="hank@example.test")

    client.post(reverse("account_reset_password"), {"email": "hank@example.test"})
    form_url = client.get(_link(mailoutbox[0]))["Location"]
    done = client.post(
        form_url, {"password1": "a brand new passphrase", "password2": "a brand new passphrase"}
    )

    assert done.status_code == 302
    ok = client.post(
        reverse("account_login"),
        {"login": "hank@example.test", "password": "a brand new passphrase"},
    )
    assert ok.status_code == 302
    reused = client.get(form_url)
    assert b"token" in reused.content.lower() or reused.status_code in (302, 400)


def test_login_with_totp_needs_the_second_factor(client: Client, db: None) -> None:
    user = UserFactory(email="ivy@example.test")
    secret = enrol_totp(user)

    first = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert first["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("home")).status_code == 302  # password alone is not a session

    second = client.post(reverse("mfa_authenticate"), {"code": _totp_now(secret)})

    assert second.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_a_totp_code_cannot_be_used_twice(client: Client, db: None) -> None:
    user = UserFactory(email="jo@example.test")
    secret = enrol_totp(user)
    code = _totp_now(secret)
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": code})
    client.post(reverse("account_logout"))

    other = Client()
    other.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    replay = other.post(reverse("mfa_authenticate"), {"code": code})

    assert replay.status_code == 200  # form error, still at the MFA stage
    assert other.get(reverse("home")).status_code == 302


def test_sensitive_post_needs_fresh_reauthentication_then_replays(alice: Any, acme: Any) -> None:
    client = login(Client(), alice, reauthenticated=False)
    url = reverse("vendors:invite", kwargs={"vendor": acme.public_id})

    response = client.post(url, {"email": "kim@acme.test", "role": "admin"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert not acme.invitations.exists()
    resumed = client.post(response["Location"], {"password": PASSWORD})
    assert resumed.status_code == 302
    assert acme.invitations.get().email == "kim@acme.test"


def test_reauthentication_is_not_asked_for_plain_admin_actions(alice: Any, acme: Any) -> None:
    client = login(Client(), alice, reauthenticated=False)

    response = client.post(
        reverse("tenants:vendor_create", kwargs={"vendor": acme.public_id}),
        {"tenant_id": "t1", "name": "T1", "admin_email": "t1@example.test"},
    )

    assert response.status_code == 302
    assert acme.tenants.filter(tenant_id="t1").exists()


def test_removing_an_email_address_needs_fresh_reauthentication(alice: Any) -> None:
    # Added addresses stay unverified until their link is used; removal and primary need reauth.
    alice.emailaddress_set.create(email="second@acme.test", verified=True)
    client = login(Client(), alice, reauthenticated=False)

    response = client.post(
        reverse("account_email"), {"action_remove": "", "email": "second@acme.test"}
    )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert alice.emailaddress_set.filter(email="second@acme.test").exists()
