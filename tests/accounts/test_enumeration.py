"""No account enumeration on login, sign-up, password reset and add-email (ACCEPTANCE A-05).

Each flow is run twice from fresh clients, once with an address that has an account and once with
one that has none, and the two answers must match: status, redirect target and the page it lands
on. Per-request randomness (CSRF token, CSP nonce) and the address itself, which the form echoes
back, are normalised out first. The timing half of A-05 is measured, not asserted:
``bench/enumeration_timing.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.broker.factories import UserFactory, login

pytestmark = pytest.mark.django_db

# Same length and shape, so nothing but existence tells them apart.
KNOWN = "known@example.test"
UNKNOWN = "nopee@example.test"

_RANDOM = [
    (
        re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"'),
        'name="csrfmiddlewaretoken" value=""',
    ),
    (re.compile(r'nonce="[^"]+"'), 'nonce=""'),
]


@dataclass(frozen=True)
class Answer:
    status: int
    location: str
    body: str


def _answer(client: Client, url: str, data: dict[str, str], *, hide: tuple[str, ...]) -> Answer:
    response = client.post(url, data)
    location = response.get("Location", "")
    if response.status_code == 302:
        response = client.get(location)
    body = response.content.decode()
    for pattern, replacement in _RANDOM:
        body = pattern.sub(replacement, body)
    for text in hide:
        body = body.replace(text, "<address>")
    return Answer(int(response.status_code), location, body)


@pytest.fixture
def known() -> User:
    return UserFactory(email=KNOWN)


class CountingHasher(MD5PasswordHasher):
    """The fast test hasher, counting how often a password is hashed (set and check alike)."""

    calls = 0

    def encode(self, password: str, salt: str) -> str:
        CountingHasher.calls += 1
        return super().encode(password, salt)


@pytest.fixture
def hashes(settings: object) -> type[CountingHasher]:
    setattr(settings, "PASSWORD_HASHERS", [f"{__name__}.CountingHasher"])  # noqa: B010
    CountingHasher.calls = 0
    return CountingHasher


def _hashes_during(counter: type[CountingHasher], url: str, data: dict[str, str]) -> int:
    before = counter.calls
    Client().post(url, data)
    return counter.calls - before


def test_login_answers_alike(known: User) -> None:
    def attempt(email: str) -> Answer:
        data = {"login": email, "password": "wrong password here"}
        return _answer(Client(), reverse("account_login"), data, hide=(email,))

    existing, missing = attempt(KNOWN), attempt(UNKNOWN)

    assert existing.status == 200
    assert "not correct" in existing.body
    assert existing == missing


def test_login_of_an_unverified_account_answers_like_no_account() -> None:
    UserFactory(email=KNOWN, verified=False)

    def attempt(email: str) -> Answer:
        data = {"login": email, "password": "wrong password here"}
        return _answer(Client(), reverse("account_login"), data, hide=(email,))

    assert attempt(KNOWN) == attempt(UNKNOWN)


def test_rate_limited_login_answers_alike(known: User) -> None:
    def attempt(email: str) -> Answer:
        client = Client()
        data = {"login": email, "password": "wrong password here"}
        for _ in range(5):
            client.post(reverse("account_login"), data)
        return _answer(client, reverse("account_login"), data, hide=(email,))

    existing, missing = attempt(KNOWN), attempt(UNKNOWN)

    assert existing.status == 429
    assert existing == missing


def test_sign_up_answers_alike(known: User) -> None:
    def attempt(email: str) -> Answer:
        data = {"email": email, "password1": "a long enough passphrase"}
        data["password2"] = data["password1"]
        return _answer(Client(), reverse("account_signup"), data, hide=(email,))

    existing, missing = attempt(KNOWN), attempt(UNKNOWN)

    assert existing.location == reverse("account_email_verification_sent")
    assert existing == missing
    assert User.objects.filter(email=UNKNOWN).exists()  # the new account really was made


def test_password_reset_answers_alike(known: User) -> None:
    def attempt(email: str) -> Answer:
        return _answer(Client(), reverse("account_reset_password"), {"email": email}, hide=(email,))

    existing, missing = attempt(KNOWN), attempt(UNKNOWN)

    assert existing.location == reverse("account_reset_password_done")
    assert existing == missing


def test_adding_an_address_answers_alike(known: User) -> None:
    # Two look-alike users (same initial, addresses sorting the same way), so both pages list
    # the same shape of addresses.
    def attempt(me: str, email: str) -> Answer:
        client = login(Client(), UserFactory(email=me))
        data = {"action_add": "", "email": email}
        return _answer(client, reverse("account_email"), data, hide=(me, email))

    existing = attempt("zara.a@example.test", KNOWN)
    missing = attempt("zara.b@example.test", UNKNOWN)

    assert existing.location == reverse("account_email")
    assert existing == missing


# Timing, structurally: the expensive step is the password hash, so both answers must pay for
# the same number of them (bench/enumeration_timing.py measures the rest).


def test_login_hashes_alike_for_existing_and_unknown_addresses(
    hashes: type[CountingHasher],
) -> None:
    UserFactory(email=KNOWN)
    url = reverse("account_login")

    existing = _hashes_during(hashes, url, {"login": KNOWN, "password": "wrong password here"})
    missing = _hashes_during(hashes, url, {"login": UNKNOWN, "password": "wrong password here"})

    assert existing >= 1
    assert existing == missing


def test_sign_up_with_a_taken_address_hashes_like_a_real_sign_up(
    hashes: type[CountingHasher],
) -> None:
    UserFactory(email=KNOWN)
    data = {"password1": "a long enough passphrase", "password2": "a long enough passphrase"}
    url = reverse("account_signup")

    taken = _hashes_during(hashes, url, {"email": KNOWN, **data})
    assert list(User.objects.values_list("email", flat=True)) == [KNOWN]  # nothing left behind
    assert not EmailAddress.objects.exclude(email=KNOWN).exists()
    fresh = _hashes_during(hashes, url, {"email": UNKNOWN, **data})

    assert fresh >= 1
    assert taken == fresh
