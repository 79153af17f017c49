"""factory_boy factories for users and organisations (shared by every broker test)."""

from __future__ import annotations

import time
from typing import Any

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client

from accounts.models import User
from tenants.models import Tenant, TenantMembership
from vendors.models import Role, Vendor, VendorMembership

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        self.save()
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor

    name = factory.Sequence(lambda n: f"Vendor {n}")


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    vendor = factory.SubFactory(VendorFactory)
    tenant_id = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.Sequence(lambda n: f"Customer {n}")


class VendorMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VendorMembership

    vendor = factory.SubFactory(VendorFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.ADMIN


class TenantMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TenantMembership

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.ADMIN


def enrol_totp(user: User) -> str:
    """Give ``user`` an authenticator app; returns the base32 secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def login(client: Client, user: User, *, reauthenticated: bool = True) -> Client:
    """Log in as after a password form; ``reauthenticated`` marks a fresh password confirmation."""
    client.force_login(user)
    session = client.session
    record = {"method": "password", "at": time.time(), "email": user.email}
    if reauthenticated:
        record["reauthenticated"] = True
    session["account_authentication_methods"] = [record]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return client


def invitation_path(message: Any) -> str:
    """The path of the accept link in an invitation e-mail."""
    import re

    match = re.search(r"https?://[^/\s]+(/invitations/[A-Za-z0-9_-]+/)", message.body)
    assert match, message.body
    return match.group(1)
