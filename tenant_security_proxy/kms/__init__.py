"""Tenants' KMS providers behind one interface (proxy_api.md, DESIGN.md §5).

    kms = build_kms(config, tenant_id="t1", config_id=17)   # 207 KmsError if config is invalid
    edek_data = await kms.wrap(dek)
    dek = await kms.unwrap(edek_data)
    await kms.close()

Providers: `aws-kms` (aws.py), `gcp-kms` (gcp.py), `azure-key-vault` (azure.py),
`vault-transit` (vault.py). Each binds the tenant id into the KMS call (encryption context,
AAD, derived-key context, or a tag inside the RSA-OAEP plaintext for Azure) so data wrapped
for one tenant cannot be unwrapped under another tenant's request (ACCEPTANCE P-07).
"""

from __future__ import annotations

import importlib
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Executor
from typing import Any

from tenant_security_proxy.kms.base import KmsProvider
from tenant_security_proxy.kms.breaker import BreakerRegistry, BreakerSettings
from tenant_security_proxy.kms.classify import KmsError, config_invalid
from tenant_security_proxy.kms.client import (
    KmsClient,
    default_breakers,
    shutdown_default_executor,
)

__all__ = [
    "PROVIDERS",
    "BreakerRegistry",
    "BreakerSettings",
    "KmsClient",
    "KmsError",
    "KmsProvider",
    "build_kms",
    "build_provider",
    "shutdown_default_executor",
]

# provider id -> module; imported on first use so a proxy whose tenants all use Vault never
# pays for importing boto3, google-cloud-kms and the Azure SDK.
PROVIDERS: dict[str, str] = {
    "aws-kms": "tenant_security_proxy.kms.aws",
    "gcp-kms": "tenant_security_proxy.kms.gcp",
    "azure-key-vault": "tenant_security_proxy.kms.azure",
    "vault-transit": "tenant_security_proxy.kms.vault",
}


def build_provider(
    config: Mapping[str, Any],
    *,
    tenant_id: str,
    timeout_s: float = 2.0,
    ca_file: str | None = None,
) -> KmsProvider:
    """Validates `config` and returns the synchronous provider for it (no network I/O)."""
    if not isinstance(config, Mapping):
        raise config_invalid("KMS config must be a JSON object")
    provider = config.get("provider")
    if not provider:
        raise config_invalid("KMS config is missing 'provider'")
    module_name = PROVIDERS.get(str(provider))
    if module_name is None:
        known = ", ".join(sorted(PROVIDERS))
        raise config_invalid(f"unknown KMS provider {str(provider)[:40]!r} (known: {known})")
    if not tenant_id:
        raise config_invalid("tenant id is required to bind KMS calls to the tenant")
    module = importlib.import_module(module_name)
    built: KmsProvider = module.Provider(
        config, tenant_id=tenant_id, timeout_s=timeout_s, ca_file=ca_file
    )
    return built


def build_kms(
    config: Mapping[str, Any],
    *,
    tenant_id: str,
    config_id: int,
    timeout_s: float = 2.0,
    ca_file: str | None = None,
    breakers: BreakerRegistry | None = None,
    executor: Executor | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    rng: random.Random | None = None,
) -> KmsClient:
    """A KmsClient for one tenant's decrypted KMS config; KmsError(207) if the config is invalid.

    `ca_file` adds trust roots for KMS endpoints with a private CA (an operator setting, not a
    tenant one). `breakers`, `executor`, `clock`, `sleep` and `rng` are for tests.
    """
    provider = build_provider(config, tenant_id=tenant_id, timeout_s=timeout_s, ca_file=ca_file)
    registry = breakers or default_breakers()
    extra: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
    return KmsClient(
        provider,
        tenant_id=tenant_id,
        config_id=config_id,
        timeout_s=timeout_s,
        breaker=registry.get(tenant_id, provider.endpoint),
        executor=executor,
        clock=clock,
        rng=rng,
        **extra,
    )
