"""Which events of a tenant's chain the tenant's vendor may also read (docs/audit.md).

A tenant sees everything in its chain. The vendor sees its vendor-level chain and, of its
tenants' chains, only the provisioning side: what the vendor's API keys and proxy clusters did,
and the actions listed here. Tenant-internal work (configs, policy content, members, their own
audit page views) stays private to the tenant.
"""

from __future__ import annotations

from audit.actors import ActorKind

# Exact actions, or a prefix ending in "." meaning "every action in that family".
VENDOR_VISIBLE_TENANT_ACTIONS: frozenset[str] = frozenset(
    {
        "tenant.created",
        "tenant.updated",
        "tenant.deleted",
        "tenant.invited",
        "tenant.invitation_resent",
        "tenant.invitation_revoked",
        "tenant.accepted",
        "tenant.root_key_submitted",
        "tenant.root_key_approved",
        "tenant.root_key_rejected",
        "tenant_root.",
        "tenant_policy.signed",
        "proxy.",
        "cluster.",
    }
)
VENDOR_VISIBLE_ACTOR_KINDS: frozenset[str] = frozenset(
    {ActorKind.VENDOR_API_KEY, ActorKind.PROXY_CLUSTER}
)


def _listed(action: str) -> bool:
    if action in VENDOR_VISIBLE_TENANT_ACTIONS:
        return True
    return any(
        rule.endswith(".") and action.startswith(rule) for rule in VENDOR_VISIBLE_TENANT_ACTIONS
    )


def is_vendor_visible(*, action: str, actor_kind: str, has_tenant: bool) -> bool:
    if not has_tenant:
        return True
    return actor_kind in VENDOR_VISIBLE_ACTOR_KINDS or _listed(action)
