"""The vendor-visibility rule in one table, and audit history outliving deleted organisations."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from audit.actors import Actor, ActorKind
from audit.models import AuditChainHead, AuditEvent
from audit.selectors import AuditFilters, vendor_events
from audit.services import record
from audit.verify import verify_chain
from audit.visibility import is_vendor_visible

VENDOR_ISSUED = SimpleNamespace(issued_by="vendor")
TENANT_ISSUED = SimpleNamespace(issued_by="tenant")


@pytest.mark.parametrize(
    ("action", "actor", "tenant", "target", "visible"),
    [
        ("vendor.settings_changed", ActorKind.USER, False, None, True),
        ("audit.viewed", ActorKind.USER, False, None, True),
        ("tenant.created", ActorKind.USER, True, None, True),
        ("tenant_root.approved", ActorKind.USER, True, None, True),
        ("proxy.bundle_fetched", ActorKind.PROXY_CLUSTER, True, None, True),
        ("kms_config.used", ActorKind.PROXY_CLUSTER, True, None, True),
        ("tenant.invited", ActorKind.VENDOR_API_KEY, True, None, True),
        ("invitation.created", ActorKind.USER, True, VENDOR_ISSUED, True),
        ("invitation.created", ActorKind.USER, True, TENANT_ISSUED, False),
        ("invitation.accepted", ActorKind.USER, True, None, False),
        ("kms_config.sealed", ActorKind.USER, True, None, False),
        ("tenant_policy.signed", ActorKind.USER, True, None, False),
        ("tenant_member.removed", ActorKind.USER, True, None, False),
        ("audit.exported", ActorKind.USER, True, None, False),
        ("audit.viewed", ActorKind.TENANT_API_KEY, True, None, False),
    ],
)
def test_vendor_visibility_rule(
    action: str, actor: str, tenant: bool, target: Any, visible: bool
) -> None:
    assert (
        is_vendor_visible(action=action, actor_kind=actor, has_tenant=tenant, target=target)
        is visible
    )


def test_deleting_a_tenant_keeps_its_history_verifiable_and_visible_to_the_vendor(
    acme: Any, globex: Any
) -> None:
    record(action="tenant.created", actor=Actor.system(), vendor=acme, tenant=globex, target=globex)
    record(action="kms_config.sealed", actor=Actor.system(), vendor=acme, tenant=globex)
    tenant_public_id = globex.public_id
    globex.delete()
    head = AuditChainHead.objects.get(tenant_public_id=tenant_public_id)
    assert AuditEvent.objects.filter(chain=head).count() == 2
    assert verify_chain(head).ok
    shown = list(vendor_events(vendor=acme, filters=AuditFilters()))
    assert [(e.action, e.tenant_ref) for e in shown] == [("tenant.created", "globex")]


def test_deleting_a_vendor_keeps_its_history(acme: Any) -> None:
    record(action="vendor.settings_changed", actor=Actor.system(), vendor=acme)
    key = f"vendor:{acme.public_id}"
    acme.delete()
    assert verify_chain(AuditChainHead.objects.get(key=key)).ok
