"""Fixtures of the audit tests. People come from tests/conftest.py (alice: vendor admin, bob:
tenant admin, carol: tenant viewer, mallory: outsider); this adds the organisations' aliases,
a second tenant and a vendor viewer."""

from __future__ import annotations

from typing import Any

import pytest

from tests.broker.factories import (
    TenantFactory,
    UserFactory,
    VendorFactory,
    VendorMembershipFactory,
    login,
)


@pytest.fixture
def vendor(acme: Any) -> Any:
    return acme


@pytest.fixture
def tenant(globex: Any) -> Any:
    return globex


@pytest.fixture
def other_vendor(db: Any) -> Any:
    return VendorFactory(name="Other SaaS")


@pytest.fixture
def other_tenant(acme: Any) -> Any:
    return TenantFactory(vendor=acme, tenant_id="initech", name="Initech")


@pytest.fixture
def victor(acme: Any) -> Any:
    """Vendor viewer."""
    user = UserFactory(email="victor@acme.test")
    VendorMembershipFactory(vendor=acme, user=user, role="viewer")
    return user


@pytest.fixture
def victor_client(victor: Any) -> Any:
    from django.test import Client

    return login(Client(), victor)


@pytest.fixture(autouse=True)
def _static_without_manifest(settings: Any) -> None:
    # Pages are rendered without collectstatic in tests: no manifest to look names up in.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
