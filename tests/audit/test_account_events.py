"""L-01 for account security: each action through the real allauth views records exactly one
event (or the documented pair), with who/what/when/where and outcome, and never a secret."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.test import Client, TestCase

from accounts.models import User
from audit.actors import ActorKind, hmac_identifier
from audit.chain import PLATFORM_CHAIN
from audit.models import AuditEvent

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "another long passphrase 42"
UA = "AuditTest/1.0"

# WhiteNoise warns once when STATIC_ROOT has not been collected (tests serve from the finders).
pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")


@pytest.fixture
def dave(db: Any) -> User:
    user = User.objects.create_user(email="dave@example.com", password=PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def browser(dave: User) -> Client:
    return Client(HTTP_USER_AGENT=UA, REMOTE_ADDR="198.51.100.7")


def _login(client: Client, password: str = PASSWORD) -> Any:
    return client.post("/accounts/login/", {"login": "dave@example.com", "password": password})


def _totp_code(client: Client) -> str:
    secret = client.session[SECRET_SESSION_KEY]
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def _reauthenticated(client: Client) -> None:
    """As if the password had just been confirmed again (allauth asks before MFA changes)."""
    session = client.session
    for entry in session["account_authentication_methods"]:
        entry["reauthenticated"] = True
    session.save()


def _activate_totp(client: Client) -> None:
    _reauthenticated(client)
    client.get("/accounts/2fa/totp/activate/")
    response = client.post("/accounts/2fa/totp/activate/", {"code": _totp_code(client)})
    assert response.status_code == 302, response.content[:500]


def nothing(client: Client, dave: User) -> None:
    pass


def logged_in(client: Client, dave: User) -> None:
    _login(client)


def freshly_logged_in(client: Client, dave: User) -> None:
    """Logged in and the password just confirmed (e-mail changes ask for it)."""
    _login(client)
    _reauthenticated(client)


def with_totp(client: Client, dave: User) -> None:
    _login(client)
    _activate_totp(client)
    _reauthenticated(client)


def do_login(client: Client, dave: User) -> None:
    assert _login(client).status_code == 302


def do_failed_login(client: Client, dave: User) -> None:
    assert _login(client, password="wrong password!!").status_code == 200


def do_logout(client: Client, dave: User) -> None:
    client.post("/accounts/logout/")


def do_password_change(client: Client, dave: User) -> None:
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302


def do_password_reset(client: Client, dave: User) -> None:
    key = f"{user_pk_to_url_str(dave)}-{default_token_generator.make_token(dave)}"
    landing = client.get(f"/accounts/password/reset/key/{key}/")
    assert landing.status_code == 302
    response = client.post(
        landing["Location"], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302


def do_email_add(client: Client, dave: User) -> None:
    client.post("/accounts/email/", {"action_add": "", "email": "dave.new@example.com"})


def do_email_change(client: Client, dave: User) -> None:
    EmailAddress.objects.create(user=dave, email="dave.two@example.com", verified=True)
    client.post("/accounts/email/", {"action_primary": "", "email": "dave.two@example.com"})


def do_mfa_activate(client: Client, dave: User) -> None:
    _activate_totp(client)


def do_mfa_deactivate(client: Client, dave: User) -> None:
    client.post("/accounts/2fa/totp/deactivate/")


def do_recovery_codes(client: Client, dave: User) -> None:
    client.post("/accounts/2fa/recovery-codes/generate/")


Step = Callable[[Client, User], None]
CASES: dict[str, tuple[Step, Step, list[str], str]] = {
    "login": (nothing, do_login, ["user.logged_in"], "success"),
    "login_failed": (nothing, do_failed_login, ["user.login_failed"], "failure"),
    "logout": (logged_in, do_logout, ["user.logged_out"], "success"),
    "password_change": (logged_in, do_password_change, ["user.password_changed"], "success"),
    "password_reset": (nothing, do_password_reset, ["user.password_reset"], "success"),
    "email_add": (freshly_logged_in, do_email_add, ["user.email_added"], "success"),
    "email_change": (freshly_logged_in, do_email_change, ["user.email_changed"], "success"),
    # Enrolling the first authenticator also generates recovery codes: two actions.
    "mfa_activate": (
        logged_in,
        do_mfa_activate,
        ["mfa.authenticator_added", "mfa.recovery_codes_generated"],
        "success",
    ),
    # Removing the last authenticator also removes the now-dangling recovery codes.
    "mfa_deactivate": (
        with_totp,
        do_mfa_deactivate,
        ["mfa.authenticator_removed", "mfa.authenticator_removed"],
        "success",
    ),
    "recovery_codes": (with_totp, do_recovery_codes, ["mfa.recovery_codes_generated"], "success"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_account_action_records_exactly_its_events(
    browser: Client,
    dave: User,
    case: tuple[Step, Step, list[str], str],
) -> None:
    setup, action, expected, outcome = case
    # allauth announces MFA changes after its commit; run those callbacks as a commit would.
    with TestCase.captureOnCommitCallbacks(execute=True):
        setup(browser, dave)
    mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    with TestCase.captureOnCommitCallbacks(execute=True):
        action(browser, dave)
    events = list(AuditEvent.objects.filter(id__gt=mark).order_by("id"))
    assert [e.action for e in events] == expected
    last = events[-1]
    assert last.outcome == outcome
    assert last.chain.key == PLATFORM_CHAIN and last.vendor_public_id is None
    assert last.ip == "198.51.100.7" and last.user_agent == UA and len(last.request_id) >= 8
    assert last.time.tzinfo is not None
    for event in events:
        assert PASSWORD not in str(event.data) and NEW_PASSWORD not in str(event.data)
    if outcome == "success":
        assert last.actor_kind == ActorKind.USER and last.actor_id == str(dave.public_id)


def test_a_failed_login_keeps_only_an_hmac_of_the_typed_identifier(
    browser: Client, dave: User
) -> None:
    browser.post(
        "/accounts/login/", {"login": "Someone@Example.com", "password": "hunter2 hunter2"}
    )
    event = AuditEvent.objects.get(action="user.login_failed")
    assert event.actor_kind == ActorKind.ANONYMOUS
    assert event.actor_id == hmac_identifier("someone@example.com")
    assert event.target_id == "" and event.data == {}
    assert "someone" not in repr(event.__dict__).lower()


def test_ending_other_sessions_is_one_event(browser: Client, dave: User, settings: Any) -> None:
    settings.USERSESSIONS_ADAPTER = "audit.adapters.AuditedUserSessionsAdapter"
    other = Client(HTTP_USER_AGENT="Other/1")
    _login(other)
    _login(browser)
    mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = browser.post("/accounts/sessions/")
    assert response.status_code == 302
    events = list(AuditEvent.objects.filter(id__gt=mark))
    assert [(e.action, e.data) for e in events] == [("user.sessions_ended", {"count": 1})]
    assert events[0].user_agent == UA
    assert other.get("/")["Location"].startswith("/accounts/login/")  # logged out there
