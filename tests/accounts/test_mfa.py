"""MFA enforcement for organisation admins, and TOTP secrets encrypted at rest (A-01, A-09)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.adapters import MFAAdapter
from tests.broker.factories import (
    TenantMembershipFactory,
    VendorMembershipFactory,
    enrol_totp,
    login,
)

pytestmark = pytest.mark.django_db


def _raw_authenticator_data() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM mfa_authenticator")
        return " ".join(str(row[0]) for row in cursor.fetchall())


def test_no_base32_totp_secret_or_recovery_seed_is_stored(alice: Any) -> None:
    totp = Authenticator.objects.get(user=alice, type=Authenticator.Type.TOTP)
    secret = MFAAdapter().decrypt(totp.data["secret"])
    recovery = RecoveryCodes.activate(alice)
    seed = MFAAdapter().decrypt(recovery.instance.data["seed"])

    raw = _raw_authenticator_data()
    assert len(secret) >= 32 and base64.b32decode(secret)  # a real base32 secret ...
    assert secret not in raw  # ... that never reaches the database in clear
    assert seed not in raw
    assert raw.count("enc1:") == 2


def test_stored_totp_still_validates_codes(alice: Any) -> None:
    from tests.accounts.test_auth import _totp_now

    totp = Authenticator.objects.get(user=alice, type=Authenticator.Type.TOTP)
    secret = MFAAdapter().decrypt(totp.data["secret"])

    assert TOTP(totp).validate_code(_totp_now(secret))


def test_an_unencrypted_or_tampered_secret_is_refused() -> None:
    adapter = MFAAdapter()
    sealed = adapter.encrypt("JBSWY3DPEHPK3PXP")

    with pytest.raises(ImproperlyConfigured):
        adapter.decrypt("JBSWY3DPEHPK3PXP")
    with pytest.raises(ImproperlyConfigured):
        adapter.decrypt(sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB"))
    assert adapter.decrypt(sealed) == "JBSWY3DPEHPK3PXP"


@pytest.fixture
def vendor_admin_without_mfa(acme: Any) -> Client:
    return login(Client(), VendorMembershipFactory(vendor=acme, role="admin").user)


def test_vendor_admin_without_mfa_is_sent_to_enrol_before_an_admin_action(
    vendor_admin_without_mfa: Client, acme: Any
) -> None:
    url = reverse("tenants:vendor_create", kwargs={"vendor": acme.public_id})

    get = vendor_admin_without_mfa.get(url)
    post = vendor_admin_without_mfa.post(
        url, {"tenant_id": "t", "name": "T", "admin_email": "t@example.test"}
    )

    for response in (get, post):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("mfa_index"))
    assert not acme.tenants.exists()


def test_vendor_admin_without_mfa_can_still_look(
    vendor_admin_without_mfa: Client, acme: Any
) -> None:
    assert (
        vendor_admin_without_mfa.get(
            reverse("tenants:vendor_list", kwargs={"vendor": acme.public_id})
        ).status_code
        == 200
    )


def test_enrolling_totp_lifts_the_redirect(acme: Any) -> None:
    member = VendorMembershipFactory(vendor=acme, role="admin")
    client = login(Client(), member.user)
    url = reverse("tenants:vendor_create", kwargs={"vendor": acme.public_id})
    assert client.get(url).status_code == 302

    enrol_totp(member.user)

    assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    "required, expected", [(True, 302), (False, 200)], ids=["vendor-requires", "vendor-allows"]
)
def test_tenant_admin_mfa_follows_the_vendor_setting(
    globex: Any, required: bool, expected: int
) -> None:
    globex.vendor.require_tenant_admin_mfa = required
    globex.vendor.save()
    admin = TenantMembershipFactory(tenant=globex, role="admin").user
    client = login(Client(), admin)

    response = client.get(reverse("tenants:invite", kwargs={"tenant": globex.public_id}))

    assert response.status_code == expected


def test_viewers_never_need_mfa(carol_client: Client, globex: Any) -> None:
    response = carol_client.get(reverse("tenants:dashboard", kwargs={"tenant": globex.public_id}))

    assert response.status_code == 200


def test_mfa_pages_render_in_the_portal_layout(alice_client: Client) -> None:
    response = alice_client.get(reverse("mfa_index"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "css/app.css" in html
    assert 'class="settings"' in html
