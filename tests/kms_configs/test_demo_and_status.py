"""seed_demo's KMS spine, checked with the proxy's own verification code; the status snippet."""

from __future__ import annotations

import io
import stat
from pathlib import Path
from typing import Any

import nacl.public
import nacl.signing
import pytest
from django.core.management import call_command
from django.template.loader import render_to_string

from kms_configs import demo
from kms_configs.bundles import cluster_statements, tenant_bundles
from kms_configs.models import TenantPolicy
from kms_configs.selectors import TenantProxyStatus, tenant_proxy_status
from opencmk_crypto import b64d
from tenant_security_proxy.verify import ClusterIdentity, verify_cluster, verify_tenant_bundle
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(settings: Any, tmp_path: Path) -> dict[str, str]:
    settings.LOCAL_DIR = tmp_path
    call_command("seed_demo", stdout=io.StringIO())
    return demo._read_env(tmp_path / "proxy.env")


def test_seed_demo_provisions_a_bundle_the_proxy_accepts(
    seeded: dict[str, str], tmp_path: Path
) -> None:
    assert stat.S_IMODE((tmp_path / "proxy.env").stat().st_mode) == 0o600
    tenant = Tenant.objects.get(tenant_id="globex")
    me = ClusterIdentity(
        cluster_id=seeded["TSP_CLUSTER_ID"],
        signing_public=bytes(
            nacl.signing.SigningKey(b64d(seeded["TSP_CLUSTER_SIGNING_KEY"])).verify_key
        ),
        encryption_private=nacl.public.PrivateKey(b64d(seeded["TSP_CLUSTER_ENCRYPTION_KEY"])),
    )
    vendor_root = b64d(seeded["TSP_VENDOR_ROOT_KEY"])
    clusters, revocations = cluster_statements(tenant.vendor_id)
    vendor_id = verify_cluster(clusters, revocations, vendor_root=vendor_root, me=me)
    (bundle,) = tenant_bundles([tenant.pk])
    verified = verify_tenant_bundle(
        bundle, vendor_root=vendor_root, vendor_id=vendor_id, me=me, seen=None
    )
    assert verified is not None and verified.version == 1
    (config,) = verified.kms_configs.values()
    assert config.plaintext is not None
    assert config.plaintext["provider"] == "vault-transit"
    assert config.plaintext["key_name"] == demo.TRANSIT_KEY
    assert config.plaintext["address"] == demo.BAO_ADDRESS


def test_seed_demo_is_idempotent(seeded: dict[str, str]) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    assert TenantPolicy.objects.filter(tenant__tenant_id="globex").count() == 1
    again = demo._read_env(demo.env_file_path())
    assert again["TSP_CLUSTER_ID"] == seeded["TSP_CLUSTER_ID"]


def test_the_status_snippet_shows_metadata_and_age(world: Any, proxy: Any) -> None:
    import json

    body = {
        "cluster_id": world.cluster.cluster_id,
        "instance_id": "host-a",
        "proxy_version": "0.1.0",
        "sent_at": None,
        "cursor": None,
        "ready": True,
        "tenants": [
            {
                "tenant_id": "globex",
                "policy_version": 0,
                "status": "loaded",
                "rejection": None,
                "configs": [
                    {
                        "config_id": 42,
                        "state": "primary",
                        "canary": "failed",
                        "last_kms_error": "KMS_UNREACHABLE",
                        "counters": {"wraps": 3},
                    }
                ],
                "events": {},
            }
        ],
    }
    assert proxy.post("/api/v1/proxy/heartbeat", json.dumps(body).encode()).status_code == 204
    html = render_to_string(
        "kms_configs/_proxy_status.html", {"proxy_status": tenant_proxy_status(tenant=world.tenant)}
    )
    for text in ("east", "host-a", "#42 primary, canary failed", "KMS_UNREACHABLE", "s ago"):
        assert text in html
    empty = render_to_string(
        "kms_configs/_proxy_status.html", {"proxy_status": TenantProxyStatus(0)}
    )
    assert "No proxy has reported" in empty


def test_vendor_summaries_show_metadata_only_in_two_queries(
    world: Any, django_assert_num_queries: Any
) -> None:
    from kms_configs.selectors import tenant_kms_summaries

    world.publish()
    other = world.new_tenant("initech")
    with django_assert_num_queries(2):
        summaries = tenant_kms_summaries(tenants=[world.tenant, other.tenant])
    globex = summaries[world.tenant.pk]
    assert globex.policy_version == 1
    assert [c["provider"] for c in globex.configs] == ["vault-transit"]
    assert globex.clusters == [world.cluster.cluster_id]
    assert (globex.logging, globex.leasing, globex.last_report_age_seconds) == (False, False, None)
    assert "token" not in str(globex)
    assert summaries[other.tenant.pk].policy_version == 0
