"""Request metadata sent with every call to the proxy (DESIGN.md §6.3)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ._exceptions import ConfigurationError

__all__ = ["RequestMetadata"]


@dataclass(frozen=True, slots=True)
class RequestMetadata:
    """Who asks for a key, for which tenant, and why; recorded by the proxy in every audit event.

    ``tenant_id`` and ``requesting_id`` are required. The optional fields are forwarded to the
    tenant's logging system unchanged; ``custom_fields`` is a string-to-string map.
    """

    tenant_id: str
    requesting_id: str
    data_label: str | None = None
    source_ip: str | None = None
    object_id: str | None = None
    request_id: str | None = None
    custom_fields: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.tenant_id, str) or not self.tenant_id:
            raise ConfigurationError("tenant_id must be a non-empty string")
        if not isinstance(self.requesting_id, str) or not self.requesting_id:
            raise ConfigurationError("requesting_id must be a non-empty string")
        for key, value in self.custom_fields.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ConfigurationError("custom_fields must map strings to strings")
        # Freeze the mapping so a shared metadata object cannot change between requests.
        object.__setattr__(self, "custom_fields", MappingProxyType(dict(self.custom_fields)))

    def with_tenant(self, tenant_id: str) -> RequestMetadata:
        """Return a copy of this metadata for another tenant."""
        return RequestMetadata(
            tenant_id=tenant_id,
            requesting_id=self.requesting_id,
            data_label=self.data_label,
            source_ip=self.source_ip,
            object_id=self.object_id,
            request_id=self.request_id,
            custom_fields=dict(self.custom_fields),
        )

    def to_body(self, event: str | None = None) -> dict[str, Any]:
        """The JSON envelope every request starts from (optional fields omitted when unset)."""
        icl: dict[str, str] = {"requestingId": self.requesting_id}
        for name, value in (
            ("dataLabel", self.data_label),
            ("sourceIp", self.source_ip),
            ("objectId", self.object_id),
            ("requestId", self.request_id),
        ):
            if value is not None:
                icl[name] = value
        if event is not None:
            icl["event"] = event
        return {
            "tenantId": self.tenant_id,
            "iclFields": icl,
            "customFields": dict(self.custom_fields),
        }
