"""L-12 fields of per-request key-operation events, added in the delivery task (ACCEPTANCE L-12).

The request path (api.py) emits only facts it already holds: the event name, config id, leased
flag, result/error code and a latency measured with two `perf_counter` calls. `KmsEnricher`
turns those into CloudTrail/KAJ-like fields once per delivered event, off the request path:
provider, algorithm and key id come from the tenant's current config runtime, the encryption
context is the tenant binding every provider uses, and the caller id is `iclFields.requestingId`.

`key_identity` reads an allowlist of non-secret location fields per provider (ARN, resource
name, key name) from the decrypted config once, at load time: a credential, token or key can
never reach an event through it, whatever else the config holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from tenant_security_proxy.events import model

# The algorithm each provider's wrap uses (kms/*.py); a name, never a parameter or key.
ALGORITHMS = {
    "aws-kms": "SYMMETRIC_DEFAULT",
    "gcp-kms": "GOOGLE_SYMMETRIC_ENCRYPTION",
    "azure-key-vault": "RSA-OAEP-256",
    "vault-transit": "TRANSIT_DERIVED",
}
# KAJ-style reason (GCP Key Access Justifications): the vendor's application acts for the
# tenant's customer on every wrap/unwrap the proxy serves. See docs/security-events.md.
REASON_CODE = "CUSTOMER_INITIATED_ACCESS"
_MAX_KEY_ID_CHARS = 512
_GCP_PARTS = ("project_id", "location_id", "key_ring_id", "crypto_key_id")


def _text(config: Mapping[str, Any], name: str) -> str | None:
    value = config.get(name)
    return value if isinstance(value, str) and value else None


def _host(url: str | None) -> str | None:
    # Only the host name: a URL's userinfo could carry a credential.
    if url is None:
        return None
    try:
        return urlsplit(url).hostname or None
    except ValueError:
        return None


def key_identity(provider: str | None, config: Mapping[str, Any] | None) -> str | None:
    """A non-secret identifier of the config's key (its location), or None if unknown."""
    if not config:
        return None
    key_id: str | None = None
    if provider == "aws-kms":
        key_id = _text(config, "key_arn") or _text(config, "key_id")
    elif provider == "gcp-kms":
        parts = [_text(config, p) for p in _GCP_PARTS]
        if all(parts):
            key_id = "projects/{}/locations/{}/keyRings/{}/cryptoKeys/{}".format(*parts)
    elif provider == "azure-key-vault":
        host, name = _host(_text(config, "vault_url")), _text(config, "key_name")
        key_id = f"https://{host}/keys/{name}" if host and name else None
    elif provider == "vault-transit":
        name = _text(config, "key_name")
        key_id = f"{_text(config, 'mount') or 'transit'}/keys/{name}" if name else None
    return key_id[:_MAX_KEY_ID_CHARS] if key_id else None


class KmsEnricher:
    """Adds the L-12 fields to proxy key-operation events; `state` is the ProxyState (its
    `tenants` map is read at delivery time: the loader may replace the map as a whole)."""

    def __init__(self, state: Any) -> None:
        self._state = state

    def __call__(self, tenant_id: str, event: Mapping[str, Any]) -> Mapping[str, Any]:
        name = event.get("event")
        raw = event.get("details")
        if (
            event.get("source") != "proxy"
            or name not in model.KMS_OPERATIONS
            or not isinstance(raw, Mapping)
            or "latency_s" not in raw  # not a per-request event (e.g. LEASED_KEY_CREATED)
        ):
            return event
        config = self._config(tenant_id, name, raw.get("kms_config_id"))
        provider = getattr(config, "provider", None)
        icl = event.get("icl_fields") or {}
        details = {
            "operation": model.KMS_OPERATIONS[name],
            "kms_config_id": getattr(config, "config_id", raw.get("kms_config_id")),
            "provider": provider,
            "key_id": getattr(config, "key_id", None),
            "algorithm": ALGORITHMS.get(provider or ""),
            "encryption_context": {"tenantId": tenant_id},
            "caller_id": icl.get("requestingId"),
            "reason_code": REASON_CODE,
            "result": raw.get("result", "success"),
            "error_code": raw.get("error_code"),
            "latency_ms": round(float(raw["latency_s"]) * 1000, 3),
        }
        for key, value in raw.items():  # leased, batch sizes, ...: kept as emitted
            if key not in ("latency_s", "kms_config_id"):
                details.setdefault(key, value)
        return {**event, "details": details}

    def _config(self, tenant_id: str, name: str, config_id: object) -> Any:
        tenant = self._state.tenants.get(tenant_id)
        if tenant is None:  # removed since the request: provider and key stay unknown
            return None
        if isinstance(config_id, int):
            return tenant.configs.get(config_id)
        # A failed wrap names no config: it was the primary's, the only one wrap uses.
        return tenant.primary if name == "KMS_WRAP" else None
