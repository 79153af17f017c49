"""Fixtures shared by the broker tests: people by role (STYLE.md) and a clean cache per test.

alice — admin of vendor "Acme SaaS" (MFA enrolled)
bob   — admin of Acme's tenant "globex" (MFA enrolled)
carol — viewer of "globex"
mallory — verified user who belongs to no organisation
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.broker.factories import (
    TenantFactory,
    TenantMembershipFactory,
    UserFactory,
    VendorFactory,
    VendorMembershipFactory,
    enrol_totp,
    login,
)


@pytest.fixture(autouse=True, scope="session")
def _celery_runs_tasks_eagerly() -> Any:
    """Tasks run in-process even when REDIS_URL is set (CI): mail lands in ``mail.outbox``.

    Settings are loaded before any conftest runs, so this is set on the Celery app itself;
    ``tests/accounts/test_celery_worker.py`` turns it off for its real worker.
    """
    from broker.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


@pytest.fixture(autouse=True)
def _broker_test_defaults(request: pytest.FixtureRequest) -> Any:
    """Fast password hashing and an empty cache for every test that touches the database."""
    uses_db = {"db", "transactional_db"} & set(request.fixturenames)
    if not uses_db and request.node.get_closest_marker("django_db") is None:
        yield
        return
    settings = request.getfixturevalue("settings")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from django.core.cache import cache

    cache.clear()  # rate-limit counters and TOTP replay marks must not leak between tests
    yield


@pytest.fixture
def acme(db: None) -> Any:
    return VendorFactory(name="Acme SaaS")


@pytest.fixture
def globex(acme: Any) -> Any:
    return TenantFactory(vendor=acme, tenant_id="globex", name="Globex Corporation")


@pytest.fixture
def alice(acme: Any) -> Any:
    user = UserFactory(email="alice@acme.test")
    VendorMembershipFactory(vendor=acme, user=user, role="admin")
    enrol_totp(user)
    return user


@pytest.fixture
def bob(globex: Any) -> Any:
    user = UserFactory(email="bob@globex.test")
    TenantMembershipFactory(tenant=globex, user=user, role="admin")
    enrol_totp(user)
    return user


@pytest.fixture
def carol(globex: Any) -> Any:
    user = UserFactory(email="carol@globex.test")
    TenantMembershipFactory(tenant=globex, user=user, role="viewer")
    return user


@pytest.fixture
def mallory(db: None) -> Any:
    return UserFactory(email="mallory@evil.test")


def _client_for(user: Any) -> Client:
    return login(Client(), user)


@pytest.fixture
def alice_client(alice: Any) -> Client:
    return _client_for(alice)


@pytest.fixture
def bob_client(bob: Any) -> Client:
    return _client_for(bob)


@pytest.fixture
def carol_client(carol: Any) -> Client:
    return _client_for(carol)


@pytest.fixture
def mallory_client(mallory: Any) -> Client:
    return _client_for(mallory)
