"""Fixtures of the audit tests: organisations and people named by role (STYLE.md)."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from tenants.models import Tenant, TenantMembership
from vendors.models import Role, Vendor, VendorMembership


@pytest.fixture
def vendor(db: Any) -> Vendor:
    return Vendor.objects.create(name="Acme SaaS")


@pytest.fixture
def other_vendor(db: Any) -> Vendor:
    return Vendor.objects.create(name="Other SaaS")


@pytest.fixture
def tenant(vendor: Vendor) -> Tenant:
    return Tenant.objects.create(vendor=vendor, tenant_id="globex", name="Globex")


@pytest.fixture
def other_tenant(vendor: Vendor) -> Tenant:
    return Tenant.objects.create(vendor=vendor, tenant_id="initech", name="Initech")


def make_user(email: str) -> User:
    return User.objects.create_user(email=email, password="correct horse battery staple")


@pytest.fixture
def alice(vendor: Vendor) -> User:
    """Vendor admin."""
    user = make_user("alice@acme.example")
    VendorMembership.objects.create(vendor=vendor, user=user, role=Role.ADMIN)
    return user


@pytest.fixture
def victor(vendor: Vendor) -> User:
    """Vendor viewer."""
    user = make_user("victor@acme.example")
    VendorMembership.objects.create(vendor=vendor, user=user, role=Role.VIEWER)
    return user


@pytest.fixture
def bob(tenant: Tenant) -> User:
    """Tenant admin."""
    user = make_user("bob@globex.example")
    TenantMembership.objects.create(tenant=tenant, user=user, role=Role.ADMIN)
    return user


@pytest.fixture
def carol(tenant: Tenant) -> User:
    """Tenant viewer."""
    user = make_user("carol@globex.example")
    TenantMembership.objects.create(tenant=tenant, user=user, role=Role.VIEWER)
    return user


@pytest.fixture
def mallory(db: Any) -> User:
    """Outsider."""
    return make_user("mallory@evil.example")
