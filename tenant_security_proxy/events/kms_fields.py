"""L-12 fields of per-request key-operation events, added in the delivery task (ACCEPTANCE L-12).

The request path (api.py) emits only facts it already holds: the event name, config id, leased
flag, result/error code and a latency measured with two `perf_counter` calls. `KmsEnricher`
turns those into CloudTrail/KAJ-like fields once per delivered event, off the request path.

What never changes while a config is loaded (config id, provider, key id, algorithm, and the
encryption context: the tenant binding every provider uses) is computed and scrubbed once, when
the loader builds the config (`config_event_fields` -> `ConfigRuntime.event_fields`); per event
the enricher only merges that dict with the per-request facts (caller id = `iclFields.requestingId`,
result, error code, latency) and builds the finished event in one go: the fields it produces are
ours and are not scrubbed again, only what the request path added beyond them is.

`key_identity` reads an allowlist of non-secret location fields per provider (ARN, resource
name, key name) from the decrypted config once, at load time: a credential, token or key can
never reach an event through it, whatever else the config holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from tenant_security_proxy.events import model
from tenant_security_proxy.events.model import REDACTED, is_secret_key, rfc3339_ms, scrub

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


def config_event_fields(
    tenant_id: str, config_id: object, provider: str | None, key_id: str | None
) -> dict[str, Any]:
    """The L-12 fields of one config that hold for every event while it is loaded.

    Computed once per config (loader), scrubbed once here; never mutated afterwards (events
    share it through a dict merge).
    """
    return scrub(
        {
            "kms_config_id": config_id,
            "provider": provider,
            "key_id": key_id,
            "algorithm": ALGORITHMS.get(provider or ""),
            "encryption_context": {"tenantId": tenant_id},
        }
    )


def latency_ms(seconds: float) -> float:
    """Milliseconds to the microsecond (`round(s * 1000, 3)` up to ties, without its decimal
    conversion, which cost more than the rest of the arithmetic)."""
    return int(float(seconds) * 1_000_000 + 0.5) / 1000


# Request-path facts the enricher turns into its own fields (never copied through as extras).
_CONSUMED = frozenset({"latency_s", "kms_config_id", "result", "error_code"})
_PLAIN = (str, int, float, bool, type(None))


class KmsEnricher:
    """Finishes proxy key-operation events with the L-12 fields; `state` is the ProxyState (its
    `tenants` map is read at delivery time: the loader may replace the map as a whole).

    Called by the hub's delivery task as `enricher(tenant_id, enqueued_at, event, event_id)`:
    returns the finished event (what `model.finalize` would return for the enriched event), or
    None for any other event, which then takes the generic `finalize`.
    """

    def __init__(self, state: Any) -> None:
        self._state = state

    def __call__(
        self, tenant_id: str, enqueued_at: float, event: Mapping[str, Any], event_id: str
    ) -> dict[str, Any] | None:
        name = event.get("event")
        raw = event.get("details")
        if (
            event.get("source") != "proxy"
            or name not in model.KMS_OPERATIONS
            or type(raw) is not dict
            or "latency_s" not in raw  # not a per-request event (e.g. LEASED_KEY_CREATED)
            or event.get("event_id")  # pre-stamped: the generic path keeps what it carries
            or event.get("timestamp")
        ):
            return None
        icl = event.get("icl_fields") or {}
        custom = event.get("custom_fields") or {}
        config_id = raw.get("kms_config_id")
        # Fast path inline (the common case: a config the loader built); else `_fields`.
        tenant = self._state.tenants.get(tenant_id)
        config = (
            None if tenant is None or type(config_id) is not int else tenant.configs.get(config_id)
        )
        fields = getattr(config, "event_fields", None)
        if fields is None:
            fields = self._fields(tenant_id, name, config_id)
        details = {
            "operation": model.KMS_OPERATIONS[name],
            **fields,
            "caller_id": icl.get("requestingId"),
            "reason_code": REASON_CODE,
            "result": raw.get("result", "success"),
            "error_code": raw.get("error_code"),
            "latency_ms": latency_ms(raw["latency_s"]),
        }
        for key, value in raw.items():  # leased, batch sizes, ...: kept as emitted, scrubbed
            if key in _CONSUMED or key in details:
                continue
            if type(key) is not str:
                key = str(key)
            if is_secret_key(key):
                details[key] = REDACTED
            else:
                details[key] = value if type(value) in _PLAIN else scrub(value)
        # Key order as `finalize` of the request path's event gives: sinks see the same bytes.
        return {
            "event": name,
            "tenant_id": tenant_id,
            "source": "proxy",
            "icl_fields": icl if type(icl) is dict else dict(icl),
            "custom_fields": custom if type(custom) is dict else dict(custom),
            "details": details,
            "event_id": event_id,
            "timestamp": rfc3339_ms(enqueued_at),
        }

    def _fields(self, tenant_id: str, name: str, config_id: object) -> Mapping[str, Any]:
        config = self._config(tenant_id, name, config_id)
        if config is None:  # removed since the request: provider and key stay unknown
            return config_event_fields(tenant_id, config_id, None, None)
        fields = getattr(config, "event_fields", None)
        if fields is None:  # a config not built by the loader
            fields = config_event_fields(
                tenant_id, config.config_id, config.provider, getattr(config, "key_id", None)
            )
        return fields

    def _config(self, tenant_id: str, name: str, config_id: object) -> Any:
        tenant = self._state.tenants.get(tenant_id)
        if tenant is None:
            return None
        if isinstance(config_id, int):
            return tenant.configs.get(config_id)
        # A failed wrap names no config: it was the primary's, the only one wrap uses.
        return tenant.primary if name == "KMS_WRAP" else None
