"""Demo spine: the demo vendor's proxy serves the demo tenant as soon as the stack is up.

Acting exactly as the portal's browsers would (kms_configs.browser, same opencmk_crypto
formats, same services), for vendor "Acme SaaS" and tenant "globex" this creates: the admins'
user keys (with published demo key passphrases), the vendor root, globex's tenant root and its
vendor-signed approval, the proxy cluster ``demo-cluster`` (keys made like ``python -m
tenant_security_proxy keygen``; the private half goes only to ``.local/proxy.env``, mode 0600),
a Vault Transit config for the demo OpenBao sealed to the tenant root and the cluster, and a
signed policy (leasing off: leasing needs a logging config). Idempotent: a second run reuses
what exists and signs nothing new.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.db import transaction

from keyring.models import ClusterStatus, ProxyCluster
from kms_configs import browser
from kms_configs.browser import ConfigDraft, TenantSigner
from kms_configs.models import SealedConfig, TenantPolicy
from opencmk_crypto import OrgKeys, b64d, b64e, open_config
from tenants.models import Tenant
from vendors.models import Vendor

CLUSTER_NAME = "demo-cluster"
TRANSIT_KEY = "globex"
# The demo OpenBao dev server that scripts/run_stack.py starts (published dev credentials).
BAO_ADDRESS = os.environ.get("OPENCMK_DEMO_BAO_ADDR", "http://127.0.0.1:8200")
BAO_TOKEN = os.environ.get("OPENCMK_DEMO_BAO_TOKEN", "opencmk-demo-root-token")
KEY_PASSPHRASES = {
    "vendor_admin": "acme demo key passphrase",
    "tenant_admin": "globex demo key passphrase",
}


@dataclass(frozen=True)
class DemoKms:
    cluster_id: str
    env_file: Path
    policy_version: int
    created: bool


def env_file_path() -> Path:
    return Path(settings.LOCAL_DIR) / "proxy.env"


def _read_env(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs if not k.startswith("#")}


def _write_env(path: Path, env: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        os.fchmod(out.fileno(), 0o600)  # also when the file existed with wider permissions
        out.write("# Demo proxy environment written by seed_demo. Private keys: keep it 0600.\n")
        out.writelines(f"{k}={v}\n" for k, v in env.items())


def _cluster(vendor: Vendor, admin: Any, root: OrgKeys, path: Path) -> tuple[OrgKeys, ProxyCluster]:
    """Reuse the cluster whose private keys are in the env file; else register a fresh one."""
    env = _read_env(path)
    cluster = ProxyCluster.objects.filter(
        vendor=vendor, cluster_id=env.get("TSP_CLUSTER_ID", ""), status=ClusterStatus.ACTIVE
    ).first()
    if cluster is not None:
        keys = OrgKeys.from_secret_bytes(
            b64d(env["TSP_CLUSTER_SIGNING_KEY"]) + b64d(env["TSP_CLUSTER_ENCRYPTION_KEY"])
        )
        return keys, cluster
    keys, cluster = browser.cluster_register(vendor, admin, root, name=CLUSTER_NAME)
    api_key = env.get("TSP_API_KEY") or b64e(secrets.token_bytes(24))
    _write_env(path, browser.proxy_env(keys, cluster, root) | {"TSP_API_KEY": api_key})
    return keys, cluster


def _policy_is_current(tenant: Tenant, cluster: ProxyCluster, keys: OrgKeys) -> TenantPolicy | None:
    """The current policy if it already serves the demo config through this cluster."""
    policy = TenantPolicy.objects.filter(tenant=tenant, current=True).first()
    if policy is None or cluster.cluster_id not in policy.payload.get("clusters", []):
        return None
    primary = [e for e in policy.payload["kms_configs"] if e["state"] == "primary"]
    blob = SealedConfig.objects.filter(
        tenant=tenant, config_id=primary[0]["config_id"] if primary else -1, current=True
    ).first()
    if blob is None:
        return None
    opened = json.loads(open_config(blob.sealed, private_key=keys.encryption_key))  # as the proxy
    return policy if opened.get("address") == BAO_ADDRESS else None


@transaction.atomic
def demo_kms_seed(
    *, vendor: Vendor, tenant: Tenant, vendor_admin: Any, tenant_admin: Any
) -> DemoKms:
    path = env_file_path()
    member = browser.user_keys(vendor_admin, KEY_PASSPHRASES["vendor_admin"])
    root = browser.vendor_root_keys(vendor, vendor_admin, member)
    tenant_member = browser.user_keys(tenant_admin, KEY_PASSPHRASES["tenant_admin"])
    tenant_root = browser.tenant_root_keys(
        tenant, tenant_admin, tenant_member, vendor_admin=vendor_admin, vendor_root=root
    )
    keys, cluster = _cluster(vendor, vendor_admin, root, path)
    existing = _policy_is_current(tenant, cluster, keys)
    if existing is not None:
        return DemoKms(cluster.cluster_id, path, existing.version, created=False)
    config = {
        "provider": "vault-transit",
        "address": BAO_ADDRESS,
        "mount": "transit",
        "key_name": TRANSIT_KEY,
        "token": BAO_TOKEN,
    }
    draft = ConfigDraft(config=config, label="Demo OpenBao (Vault Transit)")
    policy = TenantSigner(tenant, tenant_admin, tenant_root).publish([draft], [cluster])
    return DemoKms(cluster.cluster_id, path, policy.version, created=True)


def print_summary(result: DemoKms, out: TextIO) -> None:
    out.write(
        f"\n  Demo proxy cluster {CLUSTER_NAME} ({result.cluster_id}); globex policy "
        f"v{result.policy_version} uses Vault Transit key '{TRANSIT_KEY}' at {BAO_ADDRESS}.\n"
        f"  Proxy environment: {result.env_file} (mode 0600).\n"
        f"  Key passphrases (unlock keys in the portal): admin@acme.example: "
        f"'{KEY_PASSPHRASES['vendor_admin']}', admin@globex.example: "
        f"'{KEY_PASSPHRASES['tenant_admin']}'\n"
    )
