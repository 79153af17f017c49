"""Browser test of the tenant KMS configuration page (issue 5 "done when", ACCEPTANCE B-04, B-09).

A tenant admin adds KMS configs in headless chromium with a canary secret typed into a
credential field. The canary must appear in no request URL, header or body, no page the broker
serves afterwards, no server log record and no database dump; the proxy's own verification
code then opens the stored sealed configs with the cluster's private key and checks the chain
of signed policies.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import nacl.public
import pytest
from django.core.management import call_command
from django.test import Client
from playwright.sync_api import Error as PlaywrightError

from kms_configs import browser
from kms_configs.bundles import cluster_statements, tenant_bundles
from kms_configs.models import SealedConfig, TenantPolicy
from opencmk_crypto import (
    SealError,
    b64d,
    b64e,
    canonical_json,
    kid,
    open_config,
    verify_statement,
)
from tenant_security_proxy.verify import ClusterIdentity, verify_cluster, verify_tenant_bundle
from tests.broker.factories import login
from tests.browser import csp_probe
from tests.keyring.browser import chromium, sessions, storage_is_empty, unlock, wait_status
from tests.keyring.conftest import with_user_key

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
__all__ = ["chromium", "sessions"]  # fixtures, imported so pytest finds them

PASSPHRASE = "a long key passphrase 42"  # what tests.keyring.conftest.blob_for uses
CANARY = "canary-vault-token-5f1e0c2a9d"
CANARY_KEY = "canary-gcp-private-key-77b3e1"


@pytest.fixture(autouse=True)
def _fast_argon2(settings: Any) -> None:
    settings.OPENCMK_KEY_ARGON2_LEVEL = "interactive"


def _fill(page: Any, provider: str, values: dict[str, str]) -> None:
    page.select_option("#kc-provider", provider)
    for name, value in values.items():
        page.fill(f"#kc-{provider}-{name}", value)


def _capture_headers(session: Any) -> list[bytes]:
    headers: list[bytes] = []
    session.context.on("request", lambda r: headers.append(json.dumps(r.headers).encode()))
    return headers


def _capture_responses(session: Any) -> list[bytes]:
    """Every response body the broker sends the pages (read at once: pages close later)."""
    bodies: list[bytes] = []

    def record(response: Any) -> None:
        try:
            bodies.append(response.url.encode() + b" " + response.body())
        except PlaywrightError:  # redirects have no body to read
            bodies.append(response.url.encode())

    session.context.on("response", record)
    return bodies


def _leaks(blobs: list[bytes], *secrets: str) -> list[str]:
    return [s for s in secrets for b in blobs if s.encode() in b or s.encode().hex().encode() in b]


def test_tenant_admin_adds_kms_configs_and_the_canary_never_leaves_the_browser(
    sessions: Any, alice: Any, bob: Any, acme: Any, globex: Any, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    vendor_root = browser.vendor_root_keys(acme, alice, with_user_key(alice).keys)
    bob_keys = with_user_key(bob).keys
    tenant_root = browser.tenant_root_keys(
        globex, bob, bob_keys, vendor_admin=alice, vendor_root=vendor_root
    )
    cluster_keys, cluster = browser.cluster_register(acme, alice, vendor_root, name="east")
    session = sessions(bob)
    headers = _capture_headers(session)
    responses = _capture_responses(session)
    url = f"/kms/tenants/{globex.public_id}/"

    # Browser-side validation: no credential given, nothing is sent.
    page = session.open(url)
    assert cluster.cluster_id in page.inner_text("#kc-clusters")
    _fill(page, "vault-transit", {"address": "http://127.0.0.1:1", "key_name": "globex"})
    page.click("#kc-add button[type=submit]")
    assert "Fill one of: token or role_id + secret_id" in wait_status(page, "error")
    assert not TenantPolicy.objects.exists()

    page.fill("#kc-label", "Main vault")
    page.fill("#kc-vault-transit-token", CANARY)
    page.click("#kc-add button[type=submit]")
    unlock(page, PASSPHRASE)
    assert "policy version 1" in wait_status(page)
    assert page.input_value("#kc-vault-transit-token") == ""
    assert page.input_value("#kc-label") == ""

    page = session.open(url)
    assert "Main vault" in page.inner_text("#kc-configs")
    _fill(
        page,
        "gcp-kms",
        {
            "project_id": "p",
            "location_id": "global",
            "key_ring_id": "r",
            "crypto_key_id": "k",
            "client_email": "proxy@p.iam.gserviceaccount.com",
            "private_key": CANARY_KEY,
        },
    )
    page.click("#kc-add button[type=submit]")
    unlock(page, PASSPHRASE)
    assert "policy version 2" in wait_status(page)
    assert storage_is_empty(page)

    # Nothing secret left the browser: URLs, bodies, headers.
    sent = session.sent() + headers
    assert any(b"/kms/tenants/" in b for b in sent) and any(b"sealed" in b for b in sent)
    assert _leaks(sent, CANARY, CANARY_KEY, PASSPHRASE) == []
    for half in (bob_keys.to_secret_bytes(), tenant_root.to_secret_bytes()):
        assert not any(b64e(half).encode() in b for b in sent)
    # Nor does anything the broker serves, logs or stores contain it.
    assert any(b"/api/policy/" in r and b'"version"' in r for r in responses)
    assert _leaks(responses, CANARY, CANARY_KEY) == []
    client = login(Client(), bob)
    pages = [client.get(url).content, client.get(f"{url}history/").content]
    assert b"Main vault" in pages[0]
    assert _leaks(pages, CANARY, CANARY_KEY) == []
    assert CANARY not in caplog.text and CANARY_KEY not in caplog.text
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert '"kms_configs.sealedconfig"' in dump.getvalue()
    assert CANARY not in dump.getvalue() and CANARY_KEY not in dump.getvalue()

    _check_policy_chain(globex, tenant_root, vendor_root, cluster, cluster_keys)


def _check_policy_chain(
    tenant: Any, tenant_root: Any, vendor_root: Any, cluster: Any, cluster_keys: Any
) -> None:
    """The proxy's own verification accepts v1 then v2 and opens both configs."""
    policies = list(TenantPolicy.objects.filter(tenant=tenant).order_by("version"))
    assert [p.version for p in policies] == [1, 2]
    for policy in policies:
        payload = verify_statement(
            policy.statement, expected_type="tenant-policy", public_key=tenant_root.signing_public
        )
        assert payload["clusters"] == [cluster.cluster_id]
    first, second = (p.payload["kms_configs"] for p in policies)
    assert first == second[:1] and first[0]["state"] == "primary"
    assert second[1]["provider"] == "gcp-kms" and second[1]["state"] == "active"

    me = ClusterIdentity(
        cluster_id=cluster.cluster_id,
        signing_public=cluster_keys.signing_public,
        encryption_private=nacl.public.PrivateKey(bytes(cluster_keys.encryption_key)),
    )
    vendor_id = verify_cluster(
        *cluster_statements(tenant.vendor_id), vendor_root=vendor_root.signing_public, me=me
    )
    seen = (1, canonical_json(policies[0].payload))
    (bundle,) = tenant_bundles([tenant.pk])
    verified = verify_tenant_bundle(
        bundle, vendor_root=vendor_root.signing_public, vendor_id=vendor_id, me=me, seen=seen
    )
    assert verified is not None and verified.version == 2
    opened = {c.provider: c.plaintext for c in verified.kms_configs.values()}
    assert opened["vault-transit"] == {
        "provider": "vault-transit",
        "address": "http://127.0.0.1:1",
        "mount": "transit",
        "key_name": "globex",
        "token": CANARY,
    }
    assert opened["gcp-kms"]["private_key"] == CANARY_KEY  # type: ignore[index]
    assert SealedConfig.objects.filter(tenant=tenant, current=True).count() == 2
    assert b64d(policies[1].statement["payload"]) == canonical_json(policies[1].payload)


def _states(tenant: Any) -> dict[int, str]:
    policy = TenantPolicy.objects.get(tenant=tenant, current=True)
    return {e["config_id"]: e["state"] for e in policy.payload["kms_configs"]}


def test_primary_disable_enable_and_delete_each_sign_a_new_policy(
    sessions: Any, alice: Any, bob: Any, acme: Any, globex: Any
) -> None:
    vendor_root = browser.vendor_root_keys(acme, alice, with_user_key(alice).keys)
    root = browser.tenant_root_keys(
        globex, bob, with_user_key(bob).keys, vendor_admin=alice, vendor_root=vendor_root
    )
    _, cluster = browser.cluster_register(acme, alice, vendor_root, name="east")
    signer = browser.TenantSigner(globex, bob, root)
    config = {"provider": "vault-transit", "address": "http://127.0.0.1:1", "key_name": "k"}
    a = browser.ConfigDraft(config=dict(config), label="A")
    b = browser.ConfigDraft(config=dict(config), label="B", state="active")
    signer.publish([a, b], [cluster])
    session = sessions(bob)
    url = f"/kms/tenants/{globex.public_id}/"

    def act(action: str, config_id: int | None, version: int) -> Any:
        page = session.open(url)
        dialogs: list[str] = []
        page.on("dialog", lambda d: dialogs.append(d.message))
        page.click(f'[data-action="{action}"][data-config="{config_id}"]')
        unlock(page, PASSPHRASE)
        assert f"policy version {version}" in wait_status(page)
        return dialogs

    page = session.open(url)
    assert page.query_selector(f'[data-config="{a.config_id}"]') is None  # primary: no actions
    act("primary", b.config_id, 2)
    assert _states(globex) == {a.config_id: "active", b.config_id: "primary"}
    dialogs = act("disable", a.config_id, 3)
    assert "unreadable until you re-enable it" in dialogs[0]
    assert _states(globex) == {a.config_id: "disabled", b.config_id: "primary"}
    act("enable", a.config_id, 4)
    assert _states(globex) == {a.config_id: "active", b.config_id: "primary"}
    act("delete", a.config_id, 5)
    assert _states(globex) == {b.config_id: "primary"}
    assert SealedConfig.objects.filter(tenant=globex).count() == 2  # no content re-sealed

    history = login(Client(), bob).get(f"{url}history/").content.decode()
    assert f"#{a.config_id} &#x27;A&#x27;: active → disabled" in history
    assert f"removed KMS config #{a.config_id} &#x27;A&#x27;" in history


def test_approving_a_new_cluster_adds_it_as_recipient_without_changing_content(
    sessions: Any, alice: Any, bob: Any, acme: Any, globex: Any
) -> None:
    vendor_root = browser.vendor_root_keys(acme, alice, with_user_key(alice).keys)
    root = browser.tenant_root_keys(
        globex, bob, with_user_key(bob).keys, vendor_admin=alice, vendor_root=vendor_root
    )
    _, east = browser.cluster_register(acme, alice, vendor_root, name="east")
    signer = browser.TenantSigner(globex, bob, root)
    config = {"provider": "vault-transit", "address": "http://127.0.0.1:1", "token": CANARY}
    first = browser.ConfigDraft(config=dict(config), label="A")
    signer.publish([first], [east])
    west_keys, west = browser.cluster_register(acme, alice, vendor_root, name="west")
    session = sessions(bob)
    url = f"/kms/tenants/{globex.public_id}/"

    page = session.open(url)
    assert west.cluster_id in page.inner_text("#kc-pending")
    page.click(f'[data-cluster-approve="{west.cluster_id}"]')
    unlock(page, PASSPHRASE)
    assert "policy version 2" in wait_status(page)

    v1, v2 = (p.payload for p in TenantPolicy.objects.filter(tenant=globex).order_by("version"))
    assert v2["clusters"] == [east.cluster_id, west.cluster_id]
    assert v2["kms_configs"] == v1["kms_configs"]  # same digests: no content change
    blob = SealedConfig.objects.get(config_id=first.config_id, current=True).sealed
    west_private = nacl.public.PrivateKey(bytes(west_keys.encryption_key))
    opened = open_config(blob, private_key=west_private, tenant_id="globex")
    assert json.loads(opened)["token"] == CANARY
    assert _leaks(session.sent(), CANARY) == []

    page = session.open(url)
    page.click(f'[data-cluster-remove="{east.cluster_id}"]')
    unlock(page, PASSPHRASE)
    assert "policy version 3" in wait_status(page)
    assert TenantPolicy.objects.get(tenant=globex, current=True).payload["clusters"] == [
        west.cluster_id
    ]


def test_logging_config_is_sealed_in_the_browser_and_then_leasing_can_be_enabled(
    sessions: Any, alice: Any, bob: Any, acme: Any, globex: Any
) -> None:
    vendor_root = browser.vendor_root_keys(acme, alice, with_user_key(alice).keys)
    root = browser.tenant_root_keys(
        globex, bob, with_user_key(bob).keys, vendor_admin=alice, vendor_root=vendor_root
    )
    cluster_keys, cluster = browser.cluster_register(acme, alice, vendor_root, name="east")
    signer = browser.TenantSigner(globex, bob, root)
    config = {"provider": "vault-transit", "address": "http://127.0.0.1:1", "token": "t"}
    signer.publish([browser.ConfigDraft(config=config, label="A")], [cluster])
    session = sessions(bob)
    url = f"/kms/tenants/{globex.public_id}/"
    secret = "canary-webhook-hmac-secret-31d9"

    page = session.open(url)
    assert page.is_disabled("#kc-leasing-enabled")  # no logging config yet
    page.select_option("#kl-provider", "webhook")
    page.fill("#kl-webhook-url", "https://siem.globex.test/opencmk")
    page.fill("#kl-webhook-secret", "too short")
    page.click("#kl-add button[type=submit]")
    assert "secret needs at least 16 characters" in wait_status(page, "error")
    page.fill("#kl-webhook-secret", secret)
    page.fill("#kl-label", "SIEM")
    page.click("#kl-add button[type=submit]")
    unlock(page, PASSPHRASE)
    assert "policy version 2" in wait_status(page)
    assert page.input_value("#kl-webhook-secret") == ""

    page = session.open(url)
    assert "SIEM" in page.inner_text("#kc-logging")
    page.check("#kc-leasing-enabled")
    page.fill("#kc-leasing-max-age", "600")
    page.click("#kc-leasing button[type=submit]")
    unlock(page, PASSPHRASE)
    assert "policy version 3" in wait_status(page)

    policy = TenantPolicy.objects.get(tenant=globex, current=True).payload
    assert policy["leasing"] == {"enabled": True, "max_age_s": 600}
    me = ClusterIdentity(
        cluster_id=cluster.cluster_id,
        signing_public=cluster_keys.signing_public,
        encryption_private=nacl.public.PrivateKey(bytes(cluster_keys.encryption_key)),
    )
    vendor_id = verify_cluster(
        *cluster_statements(acme.pk), vendor_root=vendor_root.signing_public, me=me
    )
    (bundle,) = tenant_bundles([globex.pk])
    verified = verify_tenant_bundle(
        bundle, vendor_root=vendor_root.signing_public, vendor_id=vendor_id, me=me, seen=None
    )
    assert verified is not None and verified.leasing_enabled
    assert verified.logging is not None and verified.logging.plaintext == {
        "provider": "webhook",
        "url": "https://siem.globex.test/opencmk",
        "secret": secret,
    }
    assert _leaks(session.sent(), secret) == []


def test_a_config_is_decrypted_in_the_browser_edited_and_resealed_under_its_id(
    sessions: Any, alice: Any, bob: Any, acme: Any, globex: Any
) -> None:
    vendor_root = browser.vendor_root_keys(acme, alice, with_user_key(alice).keys)
    root = browser.tenant_root_keys(
        globex, bob, with_user_key(bob).keys, vendor_admin=alice, vendor_root=vendor_root
    )
    cluster_keys, cluster = browser.cluster_register(acme, alice, vendor_root, name="east")
    config = {
        "provider": "vault-transit",
        "address": "http://127.0.0.1:1",
        "key_name": "old",
        "token": CANARY,
    }
    draft = browser.ConfigDraft(config=config, label="Vault")
    browser.TenantSigner(globex, bob, root).publish([draft], [cluster])
    session = sessions(bob)

    page = session.open(f"/kms/tenants/{globex.public_id}/")
    page.click(f'[data-edit="{draft.config_id}"]')
    unlock(page, PASSPHRASE)
    assert f"Editing config #{draft.config_id}" in wait_status(page)
    assert page.input_value("#kc-vault-transit-token") == CANARY  # decrypted in the page
    assert page.input_value("#kc-label") == "Vault"
    page.fill("#kc-vault-transit-key_name", "new")
    page.click("#kc-add button[type=submit]")  # the user key is still unlocked in this page
    assert "policy version 2" in wait_status(page)

    v1, v2 = (p.payload for p in TenantPolicy.objects.filter(tenant=globex).order_by("version"))
    (before,), (after,) = v1["kms_configs"], v2["kms_configs"]
    assert after["config_id"] == before["config_id"] and after["state"] == "primary"
    assert after["content_digest"] != before["content_digest"]
    blob = SealedConfig.objects.get(config_id=draft.config_id, current=True)
    assert blob.label == "Vault"
    private = nacl.public.PrivateKey(bytes(cluster_keys.encryption_key))
    opened = json.loads(open_config(blob.sealed, private_key=private, tenant_id="globex"))
    assert opened["key_name"] == "new" and opened["token"] == CANARY
    assert _leaks(session.sent(), CANARY) == []


def test_an_edit_refuses_a_cluster_key_swapped_in_the_brokers_database(
    sessions: Any, alice: Any, bob: Any, acme: Any, globex: Any
) -> None:
    """docs/threat-model.md T2: whoever writes the broker's database swaps a cluster's
    encryption key; the browser checks the key against the vendor-signed statement first."""
    vendor_root = browser.vendor_root_keys(acme, alice, with_user_key(alice).keys)
    root = browser.tenant_root_keys(
        globex, bob, with_user_key(bob).keys, vendor_admin=alice, vendor_root=vendor_root
    )
    _, cluster = browser.cluster_register(acme, alice, vendor_root, name="east")
    config = {"provider": "vault-transit", "address": "http://127.0.0.1:1", "token": CANARY}
    draft = browser.ConfigDraft(config=config, label="Vault")
    browser.TenantSigner(globex, bob, root).publish([draft], [cluster])
    before = SealedConfig.objects.get(config_id=draft.config_id, current=True).sealed
    attacker = nacl.public.PrivateKey.generate()
    type(cluster).objects.filter(pk=cluster.pk).update(
        encryption_public=b64e(bytes(attacker.public_key))
    )
    session = sessions(bob)

    page = session.open(f"/kms/tenants/{globex.public_id}/")
    page.click(f'[data-edit="{draft.config_id}"]')
    unlock(page, PASSPHRASE)
    assert f"Editing config #{draft.config_id}" in wait_status(page)
    page.fill("#kc-vault-transit-key_name", "new")
    page.click("#kc-add button[type=submit]")

    message = wait_status(page, "error")
    assert "Cluster east's key is not signed by your vendor; nothing was sealed." in message
    assert not any(b"/api/policy/" in blob for blob in session.sent())
    assert TenantPolicy.objects.filter(tenant=globex).count() == 1
    assert SealedConfig.objects.get(config_id=draft.config_id, current=True).sealed == before
    assert _leaks(session.sent(), CANARY) == []


def test_the_configs_page_forbids_eval_injected_scripts_and_html_sinks(
    sessions: Any, alice: Any, bob: Any, acme: Any, globex: Any
) -> None:
    with_user_key(bob)
    page = sessions(bob).open(f"/kms/tenants/{globex.public_id}/")
    outcome = csp_probe(page)
    assert outcome["eval"] == "EvalError"
    assert outcome["injected"] is False
    assert outcome["html"] == "TypeError"  # Trusted Types: no HTML sinks


def _record_statuses(page: Any) -> list[str]:
    """Every text the status line shows, reported to Python as it changes."""
    seen: list[str] = []

    def record(text: str) -> None:
        seen.append(text)

    page.expose_function("recordStatus", record)
    page.evaluate(
        """() => {
            const el = document.getElementById("kr-status");
            new MutationObserver(() => window.recordStatus(el.textContent))
                .observe(el, { childList: true, characterData: true, subtree: true });
        }"""
    )
    return seen


def _current_blobs(tenant: Any) -> dict[int, dict[str, Any]]:
    return {s.config_id: s.sealed for s in SealedConfig.objects.filter(tenant=tenant, current=True)}


def test_removing_a_cluster_reseals_every_config_so_its_key_opens_none(
    sessions: Any, alice: Any, bob: Any, acme: Any, globex: Any
) -> None:
    vendor_root = browser.vendor_root_keys(acme, alice, with_user_key(alice).keys)
    root = browser.tenant_root_keys(
        globex, bob, with_user_key(bob).keys, vendor_admin=alice, vendor_root=vendor_root
    )
    east_keys, east = browser.cluster_register(acme, alice, vendor_root, name="east")
    signer = browser.TenantSigner(globex, bob, root)
    vault = {"provider": "vault-transit", "address": "http://127.0.0.1:1", "token": CANARY}
    drafts = [
        browser.ConfigDraft(config=dict(vault), label="A"),
        browser.ConfigDraft(config=dict(vault, key_name="old"), label="B", state="disabled"),
        browser.ConfigDraft(
            config={"provider": "webhook", "url": "https://siem.globex.test/x", "secret": "s" * 16},
            kind="logging",
            label="SIEM",
        ),
    ]
    signer.publish(drafts, [east])
    primary_id = drafts[0].config_id
    assert primary_id is not None
    west_keys, west = browser.cluster_register(acme, alice, vendor_root, name="west")
    east_private = nacl.public.PrivateKey(bytes(east_keys.encryption_key))
    west_private = nacl.public.PrivateKey(bytes(west_keys.encryption_key))
    session = sessions(bob)
    url = f"/kms/tenants/{globex.public_id}/"

    page = session.open(url)
    page.click(f'[data-cluster-approve="{west.cluster_id}"]')
    unlock(page, PASSPHRASE)
    assert "policy version 2" in wait_status(page)
    approved = _current_blobs(globex)
    plaintexts = {cid: open_config(b, private_key=west_private) for cid, b in approved.items()}
    assert len(plaintexts) == 3  # west could open every blob, the disabled one too

    # Another admin signs v3 meanwhile: the page's v3 is refused and nothing changes.
    page = session.open(url)
    signer.publish(drafts, [east, west], upload=[])
    page.click(f'[data-cluster-remove="{west.cluster_id}"]')
    unlock(page, PASSPHRASE)
    error = wait_status(page, "error")
    assert "The cluster was not removed" in error and "Nothing was changed" in error
    assert TenantPolicy.objects.get(tenant=globex, current=True).version == 3
    assert _current_blobs(globex) == approved

    page = session.open(url)
    statuses = _record_statuses(page)
    page.click(f'[data-cluster-remove="{west.cluster_id}"]')
    unlock(page, PASSPHRASE)
    assert "Re-sealed 3 configurations and signed policy version 4" in wait_status(page)
    assert "Re-sealing 3 configurations…" in statuses

    v3, v4 = (
        p.payload
        for p in TenantPolicy.objects.filter(tenant=globex, version__in=[3, 4]).order_by("version")
    )
    assert v4["clusters"] == [east.cluster_id]
    entries = {e["config_id"]: e for e in [*v4["kms_configs"], v4["logging"]]}
    before = {e["config_id"]: e for e in [*v3["kms_configs"], v3["logging"]]}
    assert entries.keys() == before.keys() == plaintexts.keys()  # same config ids
    for cid, entry in entries.items():
        assert entry.get("state") == before[cid].get("state")
        assert entry["content_digest"] != before[cid]["content_digest"]
    resealed = _current_blobs(globex)
    for cid, blob in resealed.items():
        with pytest.raises(SealError):  # not a recipient any more, by any route
            open_config(blob, private_key=west_private)
        grafted = dict(blob, recipients=blob["recipients"] + [_entry_for(approved[cid], west)])
        with pytest.raises(SealError):  # its old CEK does not open the new ciphertext
            open_config(grafted, private_key=west_private)
        assert open_config(blob, private_key=east_private) == plaintexts[cid]
    assert SealedConfig.objects.get(config_id=primary_id, current=True).label == "A"

    # The remaining cluster's proxy verifies the new policy and opens its configs.
    me = ClusterIdentity(
        cluster_id=east.cluster_id,
        signing_public=east_keys.signing_public,
        encryption_private=east_private,
    )
    vendor_id = verify_cluster(
        *cluster_statements(acme.pk), vendor_root=vendor_root.signing_public, me=me
    )
    seen = (3, canonical_json(v3))
    (bundle,) = tenant_bundles([globex.pk])
    verified = verify_tenant_bundle(
        bundle, vendor_root=vendor_root.signing_public, vendor_id=vendor_id, me=me, seen=seen
    )
    assert verified is not None and verified.version == 4
    assert verified.kms_configs[primary_id].plaintext == vault
    assert verified.logging is not None and verified.logging.plaintext == drafts[2].config
    assert _leaks(session.sent(), CANARY) == []


def _entry_for(sealed: dict[str, Any], cluster: Any) -> dict[str, str]:
    own = kid(b64d(cluster.encryption_public))
    return next(r for r in sealed["recipients"] if r["kid"] == own)
