"""ACCEPTANCE F-04: a Hypothesis state machine over membership, policy versions and revocation.

Random sequences of broker service calls (tenants, kms_configs, keyring — never views), with a
small model of what the broker should now allow, and these invariants after every step:

- a member reaches the tenant through the access chokepoint (``tenants.access``) with exactly
  the capabilities of their role; a removed member, or one never added, gets 404;
- policy versions strictly increase, exactly one is current, a stale version is refused;
- a revoked cluster is refused by the proxy-request chokepoint (``proxy_auth.authenticate``),
  so it never receives a bundle, while active clusters still authenticate;
- every state change wrote exactly one audit event, a refused call none;
- every audit chain touched verifies.

CI runs ``max_examples=25`` x ``stateful_step_count=20``; ``HYPOTHESIS_PROFILE=nightly`` runs
1,000 examples (docs/operations.md, "Nightly property runs").
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.test import RequestFactory
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.roles import Capability
from audit.actors import Actor
from audit.models import AuditChainHead, AuditEvent
from audit.verify import verify_chain
from keyring.clusters import proxy_cluster_revoke
from keyring.errors import KeyringConflictError
from keyring.models import ProxyCluster
from kms_configs import browser
from kms_configs.browser import TenantSigner
from kms_configs.errors import PolicyConflictError
from kms_configs.models import TenantPolicy
from kms_configs.proxy_auth import ProxyAuthError, authenticate
from opencmk_crypto import OrgKeys, issued_at_now, sign_statement
from tenants import services as tenants
from tenants.access import tenant_for_user
from tenants.models import TenantMembership
from tests.broker.factories import TenantFactory, UserFactory, VendorFactory
from tests.kms_configs.conftest import kms_draft, pooled_user_keys, signed_headers

settings.register_profile(
    "ci", max_examples=25, stateful_step_count=20, deadline=None, print_blob=True
)
settings.register_profile(
    "nightly", max_examples=1000, stateful_step_count=30, deadline=None, print_blob=True
)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROLES = ("admin", "viewer")
PEOPLE = 3  # users besides the tenant's root holder who may come and go
BUNDLES = "/api/v1/proxy/bundles"


class BrokerMachine(RuleBasedStateMachine):
    """One vendor and one tenant per example, inside a savepoint rolled back at teardown."""

    capture: Any = None  # pytest-django's on-commit capture, set by the test

    def __init__(self) -> None:
        super().__init__()
        self.savepoint = transaction.savepoint()
        self.members: dict[int, str] = {}  # user pk -> role, the model of the membership
        self.version = 0
        self.clusters: dict[str, tuple[ProxyCluster, OrgKeys]] = {}
        self.revoked: set[str] = set()

    def teardown(self) -> None:
        transaction.savepoint_rollback(self.savepoint)

    # --- set-up: what the portal does before anything interesting happens -------------------

    @initialize()
    def provision(self) -> None:
        vendor = VendorFactory(require_tenant_admin_mfa=False)
        alice, bob = UserFactory(), UserFactory()
        vendor.memberships.create(user=alice, role="admin")
        tenant = TenantFactory(vendor=vendor)
        TenantMembership.objects.create(tenant=tenant, user=bob, role="admin")
        with self.committed():
            self.vendor_root = browser.vendor_root_keys(vendor, alice, pooled_user_keys(alice, 0))
            root = browser.tenant_root_keys(
                tenant,
                bob,
                pooled_user_keys(bob, 1),
                vendor_admin=alice,
                vendor_root=self.vendor_root,
            )
        self.vendor, self.tenant, self.alice, self.bob = vendor, tenant, alice, bob
        self.signer = TenantSigner(tenant, bob, root)
        self.draft = kms_draft()
        self.signer.seal(self.draft, [])  # reserves the config id once
        self.people = [UserFactory() for _ in range(PEOPLE)]
        self.members = {bob.pk: "admin"}
        self.events = AuditEvent.objects.count()

    def committed(self) -> Any:
        return self.capture(execute=True)

    def expect_events(self, n: int, action: str | None = None) -> None:
        now = AuditEvent.objects.count()
        assert now - self.events == n, f"expected {n} audit event(s), got {now - self.events}"
        if action is not None:
            last = AuditEvent.objects.order_by("-pk").first()
            assert last is not None and last.action == action
        self.events = now

    # --- membership --------------------------------------------------------------------------

    @rule(index=st.integers(0, PEOPLE - 1), role=st.sampled_from(ROLES))
    def add_member(self, index: int, role: str) -> None:
        user = self.people[index]
        if user.pk in self.members:
            return
        with self.committed():
            tenants.tenant_member_add(
                actor=Actor.system(), tenant=self.tenant, user=user, role=role
            )
        self.members[user.pk] = role
        self.expect_events(1, "tenant_member.added")

    @rule(index=st.integers(0, PEOPLE - 1), role=st.sampled_from(ROLES))
    def change_role(self, index: int, role: str) -> None:
        user = self.people[index]
        if user.pk not in self.members:
            return
        membership = TenantMembership.objects.get(tenant=self.tenant, user=user)
        with self.committed():
            tenants.tenant_member_role_change(
                actor=Actor.system(), membership=membership, role=role
            )
        self.members[user.pk] = role
        self.expect_events(1, "tenant_member.role_changed")

    @rule(index=st.integers(0, PEOPLE - 1))
    def remove_member(self, index: int) -> None:
        user = self.people[index]
        if user.pk not in self.members:
            return
        membership = TenantMembership.objects.get(tenant=self.tenant, user=user)
        with self.committed():
            tenants.tenant_member_remove(actor=Actor.system(), membership=membership)
        del self.members[user.pk]
        self.expect_events(1, "tenant_member.removed")

    # --- clusters ----------------------------------------------------------------------------

    @precondition(lambda self: len(self.clusters) < 4)
    @rule()
    def register_cluster(self) -> None:
        with self.committed():
            keys, cluster = browser.cluster_register(
                self.vendor, self.alice, self.vendor_root, name=f"c{len(self.clusters)}"
            )
        self.clusters[cluster.cluster_id] = (cluster, keys)
        self.expect_events(1, "proxy_cluster.registered")

    @precondition(lambda self: bool(self.clusters))
    @rule(data=st.data())
    def revoke_cluster(self, data: st.DataObject) -> None:
        # Registration order, not sorted ids: ids derive from random keys, and a draw must map
        # to the same cluster when Hypothesis replays the same choices.
        cluster_id = data.draw(st.sampled_from(list(self.clusters)))
        cluster, _ = self.clusters[cluster_id]
        payload = {
            "type": "proxy-cluster-revocation",
            "vendor_id": str(self.vendor.public_id),
            "issued_at": issued_at_now(),
            "cluster_id": cluster_id,
        }
        statement = sign_statement(
            "proxy-cluster-revocation", payload, self.vendor_root.signing_key
        )
        if cluster_id in self.revoked:
            with pytest.raises(KeyringConflictError), transaction.atomic():
                proxy_cluster_revoke(cluster=cluster, actor=self.alice, statement=statement)
            self.expect_events(0)
            return
        with self.committed():
            proxy_cluster_revoke(cluster=cluster, actor=self.alice, statement=statement)
        self.revoked.add(cluster_id)
        self.expect_events(1, "proxy_cluster.revoked")

    # --- policies ----------------------------------------------------------------------------

    @rule(data=st.data())
    def publish_policy(self, data: st.DataObject) -> None:
        active = [c for c in self.clusters if c not in self.revoked]  # registration order
        allowed = data.draw(st.lists(st.sampled_from(active), unique=True)) if active else []
        clusters = [self.clusters[c][0] for c in allowed]
        self.draft.sealed = None  # sealed afresh to exactly the allowed clusters
        with self.committed():
            policy = self.signer.publish([self.draft], clusters)
        self.version += 1
        assert policy.version == self.version
        self.expect_events(1, "tenant_policy.signed")

    @precondition(lambda self: self.version > 0)
    @rule(back=st.integers(0, 2))
    def publish_stale_policy(self, back: int) -> None:
        self.draft.sealed = None
        with pytest.raises(PolicyConflictError), transaction.atomic():
            self.signer.publish([self.draft], [], version=max(self.version - back, 1))
        self.expect_events(0)

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def access_follows_membership(self) -> None:
        if not hasattr(self, "tenant"):
            return
        for user in [self.bob, *self.people]:
            role = self.members.get(user.pk)
            view = _allowed(user, self.tenant, Capability.TENANT_VIEW)
            manage = _allowed(user, self.tenant, Capability.TENANT_MANAGE_MEMBERS)
            if role is None:
                assert (view, manage) == (404, 404), "a non-member reached the tenant"
            else:
                assert view == 200
                assert manage == (200 if role == "admin" else 403)

    @invariant()
    def policy_versions_strictly_increase(self) -> None:
        if not hasattr(self, "tenant"):
            return
        versions = list(
            TenantPolicy.objects.filter(tenant=self.tenant)
            .order_by("pk")
            .values_list("version", flat=True)
        )
        assert versions == sorted(set(versions)) and len(versions) == self.version
        assert versions == list(range(1, self.version + 1))
        current = TenantPolicy.objects.filter(tenant=self.tenant, current=True)
        assert [p.version for p in current] == ([self.version] if self.version else [])
        self.tenant.refresh_from_db()
        assert (self.tenant.policy_version or 0) == self.version

    @invariant()
    def revoked_clusters_never_authenticate(self) -> None:
        for cluster_id, (_, keys) in self.clusters.items():
            request = RequestFactory().get(
                BUNDLES, **signed_headers(keys, cluster_id, "GET", BUNDLES)
            )
            if cluster_id in self.revoked:
                with pytest.raises(ProxyAuthError, match="revoked_cluster"):
                    authenticate(request)
            else:
                assert authenticate(request).cluster_id == cluster_id

    @invariant()
    def audit_chains_verify(self) -> None:
        if not hasattr(self, "tenant"):
            return
        keys = {
            f"vendor:{self.vendor.public_id}",
            f"vendor:{self.vendor.public_id}/tenant:{self.tenant.public_id}",
        }
        for head in AuditChainHead.objects.filter(key__in=keys):
            report = verify_chain(head)
            assert report.ok, report


def _allowed(user: Any, tenant: Any, capability: Capability) -> int:
    request = RequestFactory().get("/")
    request.user = user
    try:
        tenant_for_user(request, tenant.public_id, capability)
    except Http404:
        return 404
    except PermissionDenied:
        return 403
    return 200


def test_broker_state_machine(db: None, django_capture_on_commit_callbacks: Any) -> None:
    BrokerMachine.capture = staticmethod(django_capture_on_commit_callbacks)
    run_state_machine_as_test(
        BrokerMachine,
        settings=settings(PROFILE, suppress_health_check=[HealthCheck.too_slow]),
    )
