"""Who did something: the actor recorded with every audit event."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models

if TYPE_CHECKING:
    from django.http import HttpRequest


class ActorKind(models.TextChoices):
    USER = "user", "User"
    VENDOR_API_KEY = "vendor_api_key", "Vendor API key"
    TENANT_API_KEY = "tenant_api_key", "Tenant API key"
    PROXY_CLUSTER = "proxy_cluster", "Proxy cluster"
    SYSTEM = "system", "System"
    ANONYMOUS = "anonymous", "Anonymous"


def hmac_identifier(value: str) -> str:
    """A stable pseudonym for an identifier someone typed (e.g. a failed-login e-mail).

    ASVS 16.2.5 / L-08: the log can correlate repeated attempts on one identifier without
    storing what was typed (people paste passwords into the e-mail field).
    """
    key = hashlib.sha256(b"opencmk-audit-identifier:" + settings.SECRET_KEY.encode()).digest()
    digest = hmac.new(key, value.strip().lower().encode("utf-8", "replace"), hashlib.sha256)
    return "hmac:" + digest.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str
    id: str = ""
    label: str = ""

    def __repr__(self) -> str:
        return f"Actor({self.kind}:{self.id})"

    @classmethod
    def for_user(cls, user: Any) -> Actor:
        return cls(ActorKind.USER, str(user.public_id), user.email)

    @classmethod
    def from_request(cls, request: HttpRequest) -> Actor:
        """The user behind a browser request, or anonymous when nobody is logged in."""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return cls.for_user(user)
        return cls.anonymous()

    @classmethod
    def system(cls, label: str = "") -> Actor:
        return cls(ActorKind.SYSTEM, "", label[:254])

    @classmethod
    def anonymous(cls, hint: str = "") -> Actor:
        """Nobody logged in. ``hint`` (e.g. the e-mail tried) is stored only as an HMAC."""
        return cls(ActorKind.ANONYMOUS, hmac_identifier(hint) if hint else "", "")

    @classmethod
    def vendor_api_key(cls, prefix: str, vendor: Any = None) -> Actor:
        # Only the public prefix of a key is ever recorded, never the key.
        return cls(ActorKind.VENDOR_API_KEY, prefix[:32], getattr(vendor, "name", "")[:254])

    @classmethod
    def tenant_api_key(cls, prefix: str, tenant: Any = None) -> Actor:
        return cls(ActorKind.TENANT_API_KEY, prefix[:32], getattr(tenant, "tenant_id", "")[:254])

    @classmethod
    def proxy_cluster(cls, cluster_id: Any, label: str = "") -> Actor:
        return cls(ActorKind.PROXY_CLUSTER, str(cluster_id)[:100], label[:254])
