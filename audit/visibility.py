"""Which events of a tenant's chain the tenant's vendor may also read (docs/audit.md).

A tenant sees everything in its chain. The vendor sees its vendor-level chain and, of its
tenants' chains, only the provisioning side:

* anything done by the vendor's API keys or proxy clusters (the vendor's own machinery);
* the actions in ``VENDOR_VISIBLE_TENANT_ACTIONS`` (the tenant's lifecycle and root key, which
  the vendor provisions and approves);
* invitations the vendor issued (a tenant's first admin), not those a tenant admin sends to
  colleagues.

Tenant-internal work — KMS and logging configs, policies, members, views of its pages — stays
private to the tenant. The decision is taken once, when the event is written, and is part of
the hashed event, so it cannot be changed afterwards.
"""

from __future__ import annotations

from typing import Any

from audit.actors import ActorKind

# Exact actions, or a prefix ending in "." meaning "every action in that family".
VENDOR_VISIBLE_TENANT_ACTIONS: frozenset[str] = frozenset(
    {
        "tenant.created",
        "tenant.updated",
        "tenant.deleted",
        "tenant.status_changed",
        "tenant_root.",
        "proxy.",
        "proxy_cluster.",
    }
)
VENDOR_VISIBLE_ACTOR_KINDS: frozenset[str] = frozenset(
    {ActorKind.VENDOR_API_KEY, ActorKind.PROXY_CLUSTER}
)
_VENDOR_ISSUED_FAMILIES = ("invitation.",)


def _listed(action: str) -> bool:
    if action in VENDOR_VISIBLE_TENANT_ACTIONS:
        return True
    return any(
        rule.endswith(".") and action.startswith(rule) for rule in VENDOR_VISIBLE_TENANT_ACTIONS
    )


def is_vendor_visible(
    *, action: str, actor_kind: str, has_tenant: bool, target: Any = None
) -> bool:
    if not has_tenant or actor_kind in VENDOR_VISIBLE_ACTOR_KINDS or _listed(action):
        return True
    if action.startswith(_VENDOR_ISSUED_FAMILIES):
        return getattr(target, "issued_by", None) == "vendor"
    return False
