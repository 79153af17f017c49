"""Roles → capabilities, in one place (STYLE.md: roles are TextChoices, mapped here).

Every view asks the access chokepoint for one capability; the chokepoint looks it up here.
Later issues add capabilities (keys, KMS configs) to these tables, never to views.
"""

from __future__ import annotations

from enum import StrEnum

from vendors.models import Role


class OrgKind(StrEnum):
    VENDOR = "vendor"
    TENANT = "tenant"


class Capability(StrEnum):
    VENDOR_VIEW = "vendor.view"
    VENDOR_MANAGE_TENANTS = "vendor.manage_tenants"
    VENDOR_MANAGE_MEMBERS = "vendor.manage_members"
    VENDOR_MANAGE_SETTINGS = "vendor.manage_settings"
    VENDOR_MANAGE_KEYS = "vendor.manage_keys"  # vendor root, tenant-root approvals, clusters
    VENDOR_AUDIT_ADMIN = "vendor.audit_admin"  # export the audit log, notification e-mails
    TENANT_VIEW = "tenant.view"
    TENANT_MANAGE_MEMBERS = "tenant.manage_members"
    TENANT_MANAGE_KEYS = "tenant.manage_keys"  # tenant root, KMS and logging configs, policy
    TENANT_AUDIT_ADMIN = "tenant.audit_admin"  # export the audit log, notification e-mails


_VENDOR_ROLES: dict[str, frozenset[Capability]] = {
    Role.ADMIN: frozenset(
        {
            Capability.VENDOR_VIEW,
            Capability.VENDOR_MANAGE_TENANTS,
            Capability.VENDOR_MANAGE_MEMBERS,
            Capability.VENDOR_MANAGE_SETTINGS,
            Capability.VENDOR_MANAGE_KEYS,
            Capability.VENDOR_AUDIT_ADMIN,
        }
    ),
    Role.VIEWER: frozenset({Capability.VENDOR_VIEW}),
}

_TENANT_ROLES: dict[str, frozenset[Capability]] = {
    Role.ADMIN: frozenset(
        {
            Capability.TENANT_VIEW,
            Capability.TENANT_MANAGE_MEMBERS,
            Capability.TENANT_MANAGE_KEYS,
            Capability.TENANT_AUDIT_ADMIN,
        }
    ),
    Role.VIEWER: frozenset({Capability.TENANT_VIEW}),
}

_ROLES = {OrgKind.VENDOR: _VENDOR_ROLES, OrgKind.TENANT: _TENANT_ROLES}

# Capabilities that change who holds power in an organisation: the POST needs a fresh
# re-authentication (ACCEPTANCE S-05: "add admins").
SENSITIVE: frozenset[Capability] = frozenset(
    {
        Capability.VENDOR_MANAGE_MEMBERS,
        Capability.VENDOR_MANAGE_SETTINGS,
        Capability.TENANT_MANAGE_MEMBERS,
        Capability.TENANT_MANAGE_KEYS,  # S-05: creating and changing KMS configs
    }
)

# Read-only capabilities; everything else is an "admin action" that needs MFA enrolled.
READ_ONLY: frozenset[Capability] = frozenset({Capability.VENDOR_VIEW, Capability.TENANT_VIEW})


def capabilities(kind: OrgKind, role: str) -> frozenset[Capability]:
    return _ROLES[kind].get(role, frozenset())


def has_capability(kind: OrgKind, role: str, capability: Capability) -> bool:
    if not capability.startswith(f"{kind}."):
        raise ValueError(f"{capability} is not a {kind} capability")
    return capability in capabilities(kind, role)


def is_admin_action(capability: Capability) -> bool:
    return capability not in READ_ONLY
