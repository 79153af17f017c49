"""audit.services.record: fields, redaction, chain placement, fail-closed behaviour."""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

import pytest
from django.db import transaction

from audit import context
from audit.actors import Actor, ActorKind, hmac_identifier
from audit.chain import PLATFORM_CHAIN, chain_key
from audit.models import AuditEvent
from audit.redaction import REDACTED
from audit.services import AuditWriteError, record
from tenants.models import Tenant
from vendors.models import Vendor


def test_it_records_who_what_where_and_when(alice: Any, vendor: Vendor, tenant: Tenant) -> None:
    token = context.activate(
        context.RequestContext(request_id="req-12345678", ip="2001:DB8:0::1", user_agent="UA/1")
    )
    try:
        event = record(
            action="tenant.invited",
            actor=Actor.for_user(alice),
            vendor=vendor,
            tenant=tenant,
            target=tenant,
            data={"email": "bob@globex.example"},
        )
    finally:
        context.deactivate(token)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor_kind == ActorKind.USER
    assert stored.actor_id == str(alice.public_id)
    assert stored.actor_label == "alice@acme.test"
    assert stored.action == "tenant.invited"
    assert stored.ip == "2001:db8::1"
    assert stored.user_agent == "UA/1"
    assert stored.request_id == "req-12345678"
    assert stored.outcome == "success"
    assert stored.target_type == "tenants.tenant"
    assert stored.target_id == str(tenant.public_id)
    assert stored.tenant_ref == "globex"
    assert stored.time.tzinfo is not None and stored.time.utcoffset() == UTC.utcoffset(None)
    assert isinstance(stored.event_id, uuid.UUID)
    assert stored.chain.key == chain_key(vendor.public_id, tenant.public_id)
    assert stored.data == {"email": "bob@globex.example"}


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "new_password1",
        "client_secret",
        "secret_access_key",
        "token",
        "private_key",
        "credentials",
        "key_passphrase",
        "api_key",
        "Authorization",
        "totp_seed",
        "recovery_codes",
    ],
)
def test_it_redacts_secret_looking_keys_at_any_depth(vendor: Vendor, key: str) -> None:
    event = record(
        action="vendor.settings_changed",
        actor=Actor.system(),
        vendor=vendor,
        data={key: "canary-s3cr3t", "nested": [{key: "canary-s3cr3t", "name": "kept"}]},
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.data[key] == REDACTED
    assert stored.data["nested"] == [{key: REDACTED, "name": "kept"}]
    assert "canary-s3cr3t" not in repr(stored.data)


def test_vendor_and_tenant_and_platform_events_go_to_separate_chains(
    alice: Any, vendor: Vendor, tenant: Tenant, other_tenant: Tenant
) -> None:
    actor = Actor.for_user(alice)
    events = [
        record(action="vendor.settings_changed", actor=actor, vendor=vendor),
        record(action="tenant.created", actor=actor, vendor=vendor, tenant=tenant),
        record(action="tenant.created", actor=actor, vendor=vendor, tenant=other_tenant),
        record(action="user.logged_in", actor=actor, vendor=None),
        record(action="tenant.updated", actor=actor, vendor=vendor, tenant=tenant),
    ]
    keys = [e.chain.key for e in events]
    assert keys[0] == f"vendor:{vendor.public_id}"
    assert keys[3] == PLATFORM_CHAIN
    assert len(set(keys)) == 4
    assert [e.seq for e in events] == [1, 1, 1, 1, 2]
    assert events[4].prev_hash == events[1].hash


def test_the_tenant_alone_selects_its_vendor_chain(vendor: Vendor, tenant: Tenant) -> None:
    event = record(action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=tenant)
    assert event.vendor_public_id == vendor.public_id


def test_it_refuses_a_tenant_of_another_vendor(other_vendor: Vendor, tenant: Tenant) -> None:
    with pytest.raises(AuditWriteError):
        record(action="tenant.viewed", actor=Actor.system(), vendor=other_vendor, tenant=tenant)


@pytest.mark.parametrize("action", ["Tenant.Created", "tenant", "tenant..x", "tenant.x y", ""])
def test_it_refuses_actions_that_are_not_dotted_lowercase(vendor: Vendor, action: str) -> None:
    with pytest.raises(AuditWriteError):
        record(action=action, actor=Actor.system(), vendor=vendor)


def test_anonymous_actor_keeps_only_an_hmac_of_what_was_typed() -> None:
    actor = Actor.anonymous(hint="Bob@Globex.example ")
    assert actor.id == hmac_identifier("bob@globex.example")
    assert "globex" not in actor.id and actor.label == ""


def test_it_stores_control_characters_and_nul_safely(vendor: Vendor) -> None:
    event = record(
        action="tenant.created",
        actor=Actor.system(),
        vendor=vendor,
        data={"name": "a\x00b\r\nc\x1b[31m\ud800"},
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert "\x00" not in stored.data["name"]
    assert stored.data["name"].startswith("a\ufffdb\r\nc\x1b[31m")


def test_a_failed_audit_write_rolls_the_callers_change_back(
    vendor: Vendor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audit import metrics, services

    def broken_insert(event: AuditEvent) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_insert", broken_insert)
    before = metrics.AUDIT_WRITE_FAILURES._value.get()
    with pytest.raises(AuditWriteError), transaction.atomic():
        Tenant.objects.create(vendor=vendor, tenant_id="rolled-back", name="Rolled back")
        record(action="tenant.created", actor=Actor.system(), vendor=vendor)
    assert not Tenant.objects.filter(tenant_id="rolled-back").exists()
    assert metrics.AUDIT_WRITE_FAILURES._value.get() == before + 1
