"""Browser tests of the keyring pages: the whole key lifecycle in headless chromium.

In each test every request the pages send is captured and searched for the passphrase and
every private key involved (ACCEPTANCE B-04), and each page must have run libsodium's
WebAssembly backend (B-05). Argon2id runs at INTERACTIVE cost to keep the tests fast; the
costs travel with each blob, so the tests check the stored parameters instead.
"""

from __future__ import annotations

from typing import Any

import nacl.public
import pytest

from audit.actors import Actor
from keyring.models import ClusterStatus, OrgRootKey, ProxyCluster, RootKeyStatus, UserKey
from keyring.validation import cluster_id_for
from opencmk_crypto import (
    OPSLIMIT_INTERACTIVE,
    OrgKeys,
    b64d,
    b64e,
    kid,
    unwrap_secret,
    verify_statement,
)
from tenants.services import tenant_create
from tests.broker.factories import (
    UserFactory,
    VendorMembershipFactory,
    enrol_totp,
    invitation_path,
)
from tests.browser import csp_probe
from tests.keyring.browser import (
    chromium,
    sessions,
    storage_is_empty,
    unlock,
    wait_status,
)
from tests.keyring.conftest import pub, seal_to, with_user_key

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
__all__ = ["chromium", "sessions"]  # fixtures, imported so pytest finds them

PASSPHRASE = "a long key passphrase 42"  # what tests.keyring.conftest.blob_for uses


@pytest.fixture(autouse=True)
def _fast_argon2(settings: Any) -> None:
    settings.OPENCMK_KEY_ARGON2_LEVEL = "interactive"


def _share_secret(root: OrgRootKey, user: Any, keys: OrgKeys) -> bytes:
    share = root.shares.get(recipient=user)
    return nacl.public.SealedBox(keys.encryption_key).decrypt(b64d(share.sealed_secret))


def _vendor_root(acme: Any, holder: Any) -> OrgKeys:
    from keyring import services

    root = OrgKeys.generate()
    services.vendor_root_create(
        vendor=acme,
        user=holder.user,
        **pub(root),
        recipient_kid=holder.user_key.kid,
        sealed_secret=seal_to(root.to_secret_bytes(), holder.keys),
    )
    return root


def test_user_key_is_created_changed_and_unlocked_in_the_browser(sessions: Any, alice: Any) -> None:
    session = sessions(alice)
    page = session.open("/keys/")
    first, second = "violet tangerine orbit 1984 !", "second passphrase, also long 77"

    page.fill("#kr-new", "short")
    page.fill("#kr-confirm", "short")
    page.click("#kr-create button[type=submit]")
    wait_status(page, "error")
    page.fill("#kr-new", first)
    page.fill("#kr-confirm", first)
    page.click("#kr-create button[type=submit]")
    text = wait_status(page)

    key = UserKey.objects.get(user=alice)
    assert key.wrapped_secret["opslimit"] == OPSLIMIT_INTERACTIVE
    assert " ".join(key.kid[i : i + 4] for i in range(0, 32, 4)) in text
    secret = unwrap_secret(key.wrapped_secret, first)
    assert kid(bytes(OrgKeys.from_secret_bytes(secret).signing_public)) == key.kid
    assert page.input_value("#kr-new") == "" and page.input_value("#kr-confirm") == ""

    # Changing the passphrase unlocks the key with the old one first.
    page = session.open("/keys/")
    page.fill("#kr-old", "not my passphrase at all")
    page.fill("#kr-new", second)
    page.fill("#kr-confirm", second)
    page.click("#kr-change button[type=submit]")
    wait_status(page, "error")
    page.fill("#kr-old", first)
    page.fill("#kr-new", second)
    page.fill("#kr-confirm", second)
    page.click("#kr-change button[type=submit]")
    wait_status(page)

    key.refresh_from_db()
    assert unwrap_secret(key.wrapped_secret, second) == secret
    assert storage_is_empty(page)
    session.assert_never_sent(first, second, secret)


def test_vendor_root_is_created_and_shared_with_further_admins(
    sessions: Any, alice: Any, acme: Any, settings: Any
) -> None:
    settings.OPENCMK_KEY_IDLE_SECONDS = 2
    alice_key = with_user_key(alice)
    dave, erin = (UserFactory(email=f"{n}@acme.test") for n in ("dave", "erin"))
    for admin in (dave, erin):
        VendorMembershipFactory(vendor=acme, user=admin, role="admin")
    dave_key, erin_key = with_user_key(dave), with_user_key(erin)
    session = sessions(alice)

    page = session.open(f"/keys/vendors/{acme.public_id}/")
    page.click("#kr-create-root")
    wait_status(page)
    root = OrgRootKey.objects.get(vendor=acme)
    root_secret = _share_secret(root, alice, alice_key.keys)
    assert OrgKeys.from_secret_bytes(root_secret).kid == root.kid

    page = session.open(f"/keys/vendors/{acme.public_id}/")
    assert page.inner_text("#kr-root-fingerprint") == " ".join(
        root.kid[i : i + 4] for i in range(0, 32, 4)
    )
    page.click(f'[data-share="{dave.public_id}"]')
    unlock(page, "not the key passphrase")
    assert "Wrong key passphrase" in wait_status(page, "error")
    page.click(f'[data-share="{dave.public_id}"]')
    unlock(page, PASSPHRASE)
    wait_status(page)
    assert _share_secret(root, dave, dave_key.keys) == root_secret

    # After the idle timeout the page has wiped the key: the next share asks again.
    page.wait_for_timeout(2_500)
    page.click(f'[data-share="{erin.public_id}"]')
    unlock(page, PASSPHRASE)
    wait_status(page)
    assert _share_secret(root, erin, erin_key.keys) == root_secret

    assert storage_is_empty(page)
    session.assert_never_sent(
        PASSPHRASE,
        root_secret,
        alice_key.keys.to_secret_bytes(),
        dave_key.keys.to_secret_bytes(),
        erin_key.keys.to_secret_bytes(),
    )


def test_tenant_admin_accepts_creates_keys_and_the_vendor_approves(
    sessions: Any, alice: Any, acme: Any, mailoutbox: list[Any]
) -> None:
    tenant = tenant_create(
        actor=Actor.for_user(alice),
        vendor=acme,
        tenant_id="initech",
        name="Initech",
        admin_email="tina@initech.test",
    )
    tina = UserFactory(email="tina@initech.test")
    enrol_totp(tina)
    tenant_session = sessions(tina)
    tina_passphrase = "tina picks seven unrelated words today"

    # Acceptance (the invitation e-mail's link), then the user key, then the tenant root.
    page = tenant_session.goto(invitation_path(mailoutbox[-1]))
    page.click("text=Accept invitation")
    page.wait_for_url(f"**/tenants/{tenant.public_id}/")
    page = tenant_session.open(f"/keys/tenants/{tenant.public_id}/")
    page.click("text=Create your user key first")
    page.wait_for_selector('html[data-crypto-backend="wasm"]')
    page.fill("#kr-new", tina_passphrase)
    page.fill("#kr-confirm", tina_passphrase)
    page.click("#kr-create button[type=submit]")
    wait_status(page)
    page = tenant_session.open(f"/keys/tenants/{tenant.public_id}/")
    page.click("#kr-create-root")
    wait_status(page)
    root = OrgRootKey.objects.get(tenant=tenant)
    assert root.status == RootKeyStatus.PENDING_APPROVAL
    tina_secret = unwrap_secret(UserKey.objects.get(user=tina).wrapped_secret, tina_passphrase)
    tenant_secret = _share_secret(root, tina, OrgKeys.from_secret_bytes(tina_secret))
    assert storage_is_empty(page)

    alice_key = with_user_key(alice)
    vendor_root = _vendor_root(acme, alice_key)
    vendor_session = sessions(alice)
    page = vendor_session.open(f"/keys/vendors/{acme.public_id}/approvals/")
    assert root.kid[:4] in page.inner_text("#kr-pending-roots")
    page.click(f'[data-approve="{root.public_id}"]')
    unlock(page, PASSPHRASE)
    wait_status(page)

    root.refresh_from_db()
    assert root.status == RootKeyStatus.APPROVED
    payload = verify_statement(
        root.statement.statement,  # type: ignore[union-attr]
        expected_type="tenant-root",
        public_key=vendor_root.signing_public,
    )
    assert (payload["tenant_id"], payload["signing_key"]) == ("initech", root.signing_public)
    assert storage_is_empty(page)
    tenant_session.assert_never_sent(tina_passphrase, tenant_secret, tina_secret)
    vendor_session.assert_never_sent(
        PASSPHRASE, vendor_root.to_secret_bytes(), alice_key.keys.to_secret_bytes()
    )


def test_proxy_cluster_is_registered_and_revoked(sessions: Any, alice: Any, acme: Any) -> None:
    alice_key = with_user_key(alice)
    vendor_root = _vendor_root(acme, alice_key)
    cluster = OrgKeys.generate()
    private_lines = (
        f"TSP_CLUSTER_SIGNING_KEY={b64e(bytes(cluster.signing_key))}\n"
        f"TSP_CLUSTER_ENCRYPTION_KEY={b64e(bytes(cluster.encryption_key))}\n"
    )
    public_lines = (
        f"signing_key={b64e(cluster.signing_public)}\n"
        f"encryption_key={b64e(cluster.encryption_public)}\n"
        f"kid={cluster.kid}\n"
    )
    session = sessions(alice)
    page = session.open(f"/keys/vendors/{acme.public_id}/clusters/")

    # The whole keygen output, private lines included, is refused before anything is sent.
    page.fill("#kr-cluster-name", "eu-west production")
    page.fill("#kr-cluster-keys", private_lines + public_lines)
    page.click("#kr-register button[type=submit]")
    assert "PRIVATE" in wait_status(page, "error")
    assert page.input_value("#kr-cluster-keys") == ""

    page.fill("#kr-cluster-keys", public_lines)
    page.click("#kr-register button[type=submit]")
    unlock(page, PASSPHRASE)
    wait_status(page)
    registered = ProxyCluster.objects.get(vendor=acme)
    assert registered.cluster_id == cluster_id_for(cluster.signing_public)

    page = session.open(f"/keys/vendors/{acme.public_id}/clusters/")
    env = page.text_content(f'[data-cluster="{registered.public_id}"] pre.env') or ""
    assert f"TSP_CLUSTER_ID={registered.cluster_id}" in env
    assert f"TSP_VENDOR_ROOT_KEY={b64e(vendor_root.signing_public)}" in env
    assert "TSP_BROKER_URL=" in env
    page.click(f'[data-revoke="{registered.public_id}"]')
    unlock(page, PASSPHRASE)
    wait_status(page)

    registered.refresh_from_db()
    assert registered.status == ClusterStatus.REVOKED
    assert storage_is_empty(page)
    session.assert_never_sent(
        PASSPHRASE,
        vendor_root.to_secret_bytes(),
        alice_key.keys.to_secret_bytes(),
        cluster.to_secret_bytes(),
    )


def test_crypto_pages_forbid_eval_and_injected_scripts(sessions: Any, alice: Any) -> None:
    session = sessions(alice)
    page = session.open("/keys/")
    outcome = csp_probe(page)
    assert outcome["eval"] == "EvalError"
    assert outcome["injected"] is False
    assert outcome["html"] == "TypeError"  # Trusted Types: no HTML sinks on crypto pages

    # Integrity-Policy (H-05): a same-origin module without integrity metadata is refused,
    # while a module the import map lists with its sha384 loads.
    load = """async (url) => {
        try { await import(url); return "loaded"; } catch (e) { return "blocked"; }
    }"""
    assert page.evaluate(load, "/static/js/crypto/errors.mjs") == "blocked"
    assert page.evaluate(load, "/static/js/pages/keyring/common.mjs") == "loaded"
