"""A successful login leaves other failed-login counters alone (ACCEPTANCE A-04).

The product's limits (broker/settings.py ``ACCOUNT_RATE_LIMITS["login_failed"]``) are
``5/5m/key`` (per login address) and ``20/5m/ip``: five failures are answered with the form, the
sixth attempt with 429. The ACCEPTANCE row's "5th fail → 429" assumes a limit of four; these tests
check our limit of five. allauth rolls back only the successful attempt's own usage instead of
clearing the counters, so an attacker cannot interleave logins to an account they own to keep
brute-forcing someone else's.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.broker.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PER_KEY = 5
PER_IP = 20
WRONG = "not the password at all"


def _login(client: Client, email: str, password: str) -> int:
    response = client.post(reverse("account_login"), {"login": email, "password": password})
    return int(response.status_code)


def test_the_configured_limits_are_the_ones_these_tests_assume() -> None:
    assert settings.ACCOUNT_RATE_LIMITS["login_failed"] == f"{PER_KEY}/5m/key,{PER_IP}/5m/ip"


def test_success_on_another_account_keeps_the_per_account_counter() -> None:
    UserFactory(email="xena@example.test")
    UserFactory(email="yann@example.test")
    client = Client()  # one client: one IP, one session, as an attacker would use

    fails = [_login(client, "xena@example.test", WRONG) for _ in range(PER_KEY - 1)]
    ok = _login(Client(), "yann@example.test", PASSWORD)
    last_allowed = _login(client, "xena@example.test", WRONG)
    blocked = client.post(
        reverse("account_login"), {"login": "xena@example.test", "password": PASSWORD}
    )

    assert fails == [200] * (PER_KEY - 1)
    assert ok == 302
    assert last_allowed == 200
    # Even the right password is refused once the account's counter is full.
    assert blocked.status_code == 429
    assert blocked["Retry-After"] == "300"


def test_success_on_an_account_keeps_its_own_earlier_failures_for_the_next_round() -> None:
    # The success is not counted, and it does not wipe the failures before it.
    UserFactory(email="xena@example.test")
    client = Client()

    fails = [_login(client, "xena@example.test", WRONG) for _ in range(PER_KEY - 1)]
    ok = _login(Client(), "xena@example.test", PASSWORD)
    last_allowed = _login(client, "xena@example.test", WRONG)
    blocked = _login(client, "xena@example.test", WRONG)

    assert fails == [200] * (PER_KEY - 1)
    assert ok == 302
    assert (last_allowed, blocked) == (200, 429)


def test_success_from_the_same_ip_keeps_the_per_ip_counter() -> None:
    # Spread the failures over accounts so no per-account limit is reached, only the IP's.
    victims = [UserFactory(email=f"v{i}@example.test").email for i in range(PER_IP // 4)]
    UserFactory(email="yann@example.test")
    client = Client()  # every test client comes from the same REMOTE_ADDR

    statuses = [_login(client, email, WRONG) for email in victims * 2]
    assert _login(Client(), "yann@example.test", PASSWORD) == 302
    statuses += [_login(client, email, WRONG) for email in victims * 2]
    blocked = _login(client, "fresh@example.test", WRONG)

    assert statuses == [200] * PER_IP
    assert blocked == 429
