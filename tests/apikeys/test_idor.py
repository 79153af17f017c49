"""Z-01 for keys and the API: your own organisation in the URL with someone else's object → 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apikeys.models import ApiKey
from apikeys.services import api_key_create
from audit.actors import Actor
from tests.api.conftest import ApiClient, make_key
from tests.broker.factories import login
from tests.permissions.matrix import World, build_world


@pytest.fixture
def world(db: None) -> World:
    return build_world()


def _key(w: World, tenant: Any = None, vendor: Any = None) -> ApiKey:
    key, _ = api_key_create(
        actor=Actor.system("t"), vendor=vendor or w.vendor, tenant=tenant, name="k"
    )
    return key


def test_no_one_revokes_another_organisations_key_through_their_own_urls(world: World) -> None:
    vendor_key, tenant_key = _key(world), _key(world, tenant=world.tenant)
    attempts = [
        (
            "other_vendor_admin",
            "apikeys:vendor_key_revoke",
            {"vendor": world.other_vendor.public_id},
            vendor_key,
        ),
        (
            "vendor_admin",
            "apikeys:vendor_key_revoke",
            {"vendor": world.vendor.public_id},
            tenant_key,
        ),
        (
            "other_tenant_admin",
            "apikeys:tenant_key_revoke",
            {"tenant": world.other_tenant.public_id},
            tenant_key,
        ),
    ]
    for persona, name, org, key in attempts:
        client = login(Client(), world.users[persona])
        response = client.post(reverse(name, kwargs={**org, "key": key.public_id}))
        assert response.status_code == 404, (persona, name)
    assert not ApiKey.objects.filter(revoked_at__isnull=False).exists()


def test_an_invitation_of_another_tenant_is_404_under_this_tenant(world: World) -> None:
    api = ApiClient(make_key(world.vendor))
    other = world.other_tenant_invitation  # issued by tenant A2 to a colleague
    base = f"/api/v1/vendor/tenants/{world.tenant.public_id}/invitations/{other.public_id}"
    assert api.post(f"{base}/revoke").status_code == 404
    member = world.tenant_member_invitation  # A1's own, but issued by the tenant, not the vendor
    mine = f"/api/v1/vendor/tenants/{world.tenant.public_id}/invitations/{member.public_id}"
    assert api.post(f"{mine}/revoke").status_code == 404
    other.refresh_from_db(), member.refresh_from_db()
    assert other.revoked_at is None and member.revoked_at is None
