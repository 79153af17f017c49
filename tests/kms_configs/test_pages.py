"""The tenant KMS configuration pages and the JSON endpoints their module posts to.

The browser's part (sealing and signing) is played by ``kms_configs.browser.TenantSigner``,
which produces the same formats as static/js/pages/kms_configs/configs.mjs; the browser test
(tests/e2e/test_kms_configs_browser.py) drives the real page.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from kms_configs.models import ProxyHeartbeat, SealedConfig, TenantPolicy
from kms_configs.views import policy_changes
from opencmk_crypto import fingerprint

from .conftest import VAULT_CONFIG, World, kms_draft

pytestmark = pytest.mark.django_db


def _configs_url(world: World) -> str:
    return reverse("kms_configs_pages:configs", args=[world.tenant.public_id])


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_configs_page_lists_configs_with_state_version_and_last_proxy_report(
    world: World, bob_client: Client
) -> None:
    first = kms_draft(label="Main vault")
    world.signer.publish([first], [world.cluster])
    ProxyHeartbeat.objects.create(
        cluster=world.cluster,
        instance_id="east-1",
        tenant=world.tenant,
        policy_version=1,
        status="ok",
        configs=[{"config_id": first.config_id, "state": "primary", "canary": "ok"}],
        received_at=timezone.now(),
    )

    response = bob_client.get(_configs_url(world))

    assert response.status_code == 200
    html = response.content.decode()
    row = html[html.index(f'data-config-id="{first.config_id}"') :][:600]
    assert "Main vault" in row and "vault-transit" in row and "primary" in row
    assert "canary ok (east" in row
    assert "v1" in html
    assert VAULT_CONFIG["token"] not in html  # the page never has the plaintext
    assert AuditEvent.objects.filter(
        action="kms_configs.viewed", tenant_public_id=world.tenant.public_id
    ).exists()


def test_configs_page_runs_under_the_crypto_page_csp_with_integrity(
    world: World, bob_client: Client
) -> None:
    response = bob_client.get(_configs_url(world))

    csp = response.headers["Content-Security-Policy"]
    assert "'wasm-unsafe-eval'" in csp and "'unsafe-eval'" not in csp.replace("wasm-unsafe", "")
    assert "require-trusted-types-for 'script'" in csp
    assert response.headers["Integrity-Policy"] == "blocked-destinations=(script), endpoints=(csp)"
    html = response.content.decode()
    assert 'src="/static/js/pages/kms_configs/configs.mjs" integrity="sha384-' in html
    # Credential inputs have no name: the form can never submit them, only the module reads them.
    assert 'data-field="token" type="password"' in html
    assert ' name="token"' not in html


def test_provider_forms_show_required_permissions_and_gcp_data_access_logs(
    world: World, bob_client: Client
) -> None:
    html = bob_client.get(_configs_url(world)).content.decode()

    assert "kms:Encrypt and kms:Decrypt" in html
    assert "Data Access audit logs" in html
    assert "wrapKey and unwrapKey" in html
    assert "transit/decrypt/&lt;key&gt;" in html
    for provider in ("aws-kms", "gcp-kms", "azure-key-vault", "vault-transit"):
        assert f'data-provider="{provider}"' in html


def test_viewer_sees_configs_but_not_the_add_form(world: World, carol: Any) -> None:
    from tests.broker.factories import login

    html = login(Client(), carol).get(_configs_url(world)).content.decode()

    assert "KMS configs" in html
    assert 'id="kc-add"' not in html


def test_history_shows_who_signed_each_version_and_what_changed(
    world: World, bob_client: Client
) -> None:
    first = kms_draft(label="Main vault")
    world.signer.publish([first], [world.cluster])
    second = kms_draft(label="Backup", state="active")
    world.signer.publish([first, second], [world.cluster], upload=[second])

    response = bob_client.get(reverse("kms_configs_pages:history", args=[world.tenant.public_id]))

    html = response.content.decode()
    v2 = html[html.index('data-version="2"') : html.index('data-version="1"')]
    assert "bob@globex.test" in v2
    assert fingerprint(world.signer.root.kid) in v2
    assert f"added KMS config #{second.config_id} &#x27;Backup&#x27; (vault-transit, active)" in v2
    v1 = html[html.index('data-version="1"') :]
    assert f"#{first.config_id} &#x27;Main vault&#x27;" in v1
    assert f"allowed cluster {world.cluster.cluster_id}" in v1
    assert AuditEvent.objects.filter(action="tenant_policy_history.viewed").count() == 1


def test_policy_changes_names_state_content_leasing_and_cluster_changes() -> None:
    digest_a, digest_b = "A" * 43 + "=", "B" * 43 + "="
    before = {
        "kms_configs": [
            {"config_id": 1, "provider": "aws-kms", "state": "primary", "content_digest": digest_a},
            {"config_id": 2, "provider": "gcp-kms", "state": "active", "content_digest": digest_a},
        ],
        "logging": None,
        "leasing": {"enabled": False},
        "clusters": ["c1"],
    }
    after = {
        "kms_configs": [
            {"config_id": 1, "provider": "aws-kms", "state": "active", "content_digest": digest_b},
            {"config_id": 2, "provider": "gcp-kms", "state": "primary", "content_digest": digest_a},
        ],
        "logging": {"config_id": 3, "content_digest": digest_a},
        "leasing": {"enabled": True},
        "clusters": ["c2"],
    }

    changes = policy_changes(before, after, {1: "old"})

    assert changes == [
        "#1 'old': primary → active",
        "#1 'old': content or recipients re-sealed",
        "#2: active → primary",
        "logging config set",
        "key leasing enabled",
        "allowed cluster c2",
        "removed cluster c1",
    ]


def test_policy_endpoint_stores_a_browser_signed_policy_and_refuses_a_stale_version(
    world: World, bob_client: Client
) -> None:
    config_id = _post(
        bob_client,
        reverse("kms_configs_pages:api_config_id", args=[world.tenant.public_id]),
        {"kind": "kms"},
    ).json()["config_id"]
    draft = world.signer.seal(kms_draft(config_id=config_id, label="Vault"), [world.cluster])
    statement = world.signer.sign(world.signer.policy_payload([draft], [world.cluster]))
    url = reverse("kms_configs_pages:api_policy", args=[world.tenant.public_id])
    body = {"statement": statement, "sealed_configs": [{"sealed": draft.sealed, "label": "Vault"}]}

    first = _post(bob_client, url, body)
    again = _post(bob_client, url, body)

    assert first.status_code == 201 and first.json() == {"version": 1}
    assert again.status_code == 409
    assert TenantPolicy.objects.get(tenant=world.tenant).version == 1
    assert SealedConfig.objects.get(config_id=config_id).label == "Vault"


def test_policy_endpoint_refuses_a_policy_signed_by_another_key(
    world: World, bob_client: Client
) -> None:
    from opencmk_crypto import OrgKeys, sign_statement

    draft = world.signer.seal(kms_draft(), [world.cluster])
    payload = world.signer.policy_payload([draft], [world.cluster])
    forged = sign_statement("tenant-policy", payload, OrgKeys.generate().signing_key)

    response = _post(
        bob_client,
        reverse("kms_configs_pages:api_policy", args=[world.tenant.public_id]),
        {"statement": forged, "sealed_configs": [{"sealed": draft.sealed, "label": ""}]},
    )

    assert response.status_code == 400
    assert "not signed by the tenant's root key" in response.json()["error"]
    assert not TenantPolicy.objects.filter(tenant=world.tenant).exists()


def test_policy_endpoint_refuses_disabling_the_primary_while_another_config_is_active(
    world: World, bob_client: Client
) -> None:
    primary = kms_draft(label="A")
    other = kms_draft(label="B", state="active")
    world.signer.publish([primary, other], [world.cluster])
    primary.state = "disabled"

    response = _post(
        bob_client,
        reverse("kms_configs_pages:api_policy", args=[world.tenant.public_id]),
        {
            "statement": world.signer.sign(
                world.signer.policy_payload([primary, other], [world.cluster])
            )
        },
    )

    assert response.status_code == 400
    assert "Exactly one KMS config must be primary" in response.json()["error"]
    assert TenantPolicy.objects.get(tenant=world.tenant, current=True).version == 1


def test_lifecycle_buttons_follow_the_state_and_never_offer_to_disable_the_primary(
    world: World, bob_client: Client, carol: Any
) -> None:
    from tests.broker.factories import login

    primary = kms_draft(label="A")
    other = kms_draft(label="B", state="disabled")
    world.signer.publish([primary, other], [world.cluster])

    html = bob_client.get(_configs_url(world)).content.decode()
    viewer_html = login(Client(), carol).get(_configs_url(world)).content.decode()

    assert f'data-config="{primary.config_id}"' not in html
    assert f'data-action="enable" data-config="{other.config_id}"' in html
    assert f'data-action="delete" data-config="{other.config_id}"' in html
    assert f'data-action="disable" data-config="{other.config_id}"' not in html
    assert "data-action=" not in viewer_html


def test_a_cluster_registered_after_the_first_policy_waits_for_the_tenants_approval(
    world: World, bob_client: Client
) -> None:
    from kms_configs import browser

    world.signer.publish([kms_draft()], [world.cluster])
    _, west = browser.cluster_register(world.vendor, world.alice, world.vendor_root, name="west")

    html = bob_client.get(_configs_url(world)).content.decode()

    pending = html[html.index('id="kc-pending"') :]
    assert f'data-cluster-approve="{west.cluster_id}"' in pending
    allowed = html[html.index('id="kc-allowed"') : html.index('id="kc-pending"')]
    assert world.cluster.cluster_id in allowed and west.cluster_id not in allowed


def test_the_page_module_uses_no_html_sinks_and_imports_only_the_import_map() -> None:
    from pathlib import Path

    from django.conf import settings

    source = (
        Path(settings.BASE_DIR) / "static" / "js" / "pages" / "kms_configs" / "configs.mjs"
    ).read_text()

    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in source
    imports = [line for line in source.splitlines() if line.startswith("import ")]
    assert imports == [
        "import { cmk, loadCrypto, pageData, postJson, rootKeys, run, status } "
        'from "keyring-common";'
    ]
    for storage in ("localStorage", "sessionStorage", "indexedDB"):
        assert storage not in source


def test_vendor_overview_shows_metadata_per_tenant_and_never_content(
    world: World, alice: Any
) -> None:
    from tests.broker.factories import login

    world.signer.publish([kms_draft(label="Secret label")], [world.cluster])
    ProxyHeartbeat.objects.create(
        cluster=world.cluster,
        instance_id="east-1",
        tenant=world.tenant,
        status="ok",
        received_at=timezone.now(),
    )

    response = login(Client(), alice).get(
        reverse("kms_configs_pages:vendor_overview", args=[world.vendor.public_id])
    )

    html = response.content.decode()
    row = html[html.index('data-tenant="globex"') :][:1200]
    assert "v1" in row and "vault-transit · primary" in row and " s ago" in row
    assert VAULT_CONFIG["token"] not in html and "Secret label" not in html
    assert "sealed" not in row
    assert AuditEvent.objects.filter(
        action="tenant_kms_overview.viewed", vendor_public_id=world.vendor.public_id
    ).exists()


def _page_data(html: str) -> dict[str, Any]:
    start = html.index('id="keyring-data"')
    body = html[html.index(">", start) + 1 : html.index("</script>", start)]
    return dict(json.loads(body))


def test_page_data_carries_the_signed_statements_the_browser_checks_recipient_keys_with(
    world: World, bob_client: Client
) -> None:
    from keyring.models import OrgRootKey
    from kms_configs import browser
    from opencmk_crypto import b64e, verify_statement

    world.signer.publish([kms_draft()], [world.cluster])
    _, west = browser.cluster_register(world.vendor, world.alice, world.vendor_root, name="west")

    data = _page_data(bob_client.get(_configs_url(world)).content.decode())

    assert data["vendor_root_public"] == b64e(world.vendor_root.signing_public)
    root_row = OrgRootKey.objects.get(tenant=world.tenant)
    assert data["tenant_root_statement"] == root_row.statement.statement  # type: ignore[union-attr]
    vendor_key = world.vendor_root.signing_public
    certified = verify_statement(
        data["tenant_root_statement"], expected_type="tenant-root", public_key=vendor_key
    )
    assert certified["signing_key"] == root_row.signing_public
    offered = {c["cluster_id"]: c for c in data["clusters"] + data["pending_clusters"]}
    assert set(offered) == {world.cluster.cluster_id, west.cluster_id}
    for cluster in (world.cluster, west):
        entry = offered[cluster.cluster_id]
        assert entry["statement"] == cluster.statement.statement
        payload = verify_statement(
            entry["statement"], expected_type="proxy-cluster", public_key=vendor_key
        )
        assert payload["encryption_key"] == cluster.encryption_public
