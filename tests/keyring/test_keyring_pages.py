"""Page security of the keyring pages (ACCEPTANCE H-03, H-05, B-10) and the JSON endpoints."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from keyring.models import UserKey
from opencmk_crypto import OrgKeys, kid
from tests.broker.factories import enrol_totp, login

from .conftest import blob_for, pub, seal_to, with_user_key

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates" / "keyring"
PAGE_JS = Path(settings.BASE_DIR) / "static" / "js" / "pages" / "keyring"


def _pages(acme: Any, globex: Any) -> list[tuple[str, str]]:
    vendor = [str(acme.public_id)]
    return [
        ("alice", reverse("keyring:user_key")),
        ("alice", reverse("keyring:vendor_keys", args=vendor)),
        ("alice", reverse("keyring:approvals", args=vendor)),
        ("alice", reverse("keyring:clusters", args=vendor)),
        ("bob", reverse("keyring:tenant_keys", args=[str(globex.public_id)])),
    ]


@pytest.fixture
def pages(acme: Any, globex: Any, alice: Any, bob: Any) -> list[Any]:
    clients = {"alice": login(Client(), alice), "bob": login(Client(), bob)}
    return [clients[who].get(url) for who, url in _pages(acme, globex)]


def _sri(path: str) -> str:
    """sha384 of the bytes the broker actually serves at /static/<path>."""
    response = Client().get(settings.STATIC_URL + path)
    assert response.status_code == 200, path
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body == Path(str(finders.find(path))).read_bytes()
    return "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()


def _csp(response: Any) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in policy.split(";")) if d}


def test_every_script_carries_the_sha384_of_the_served_file(pages: list[Any]) -> None:
    for response in pages:
        assert response.status_code == 200
        html = response.content.decode()
        scripts = re.findall(
            r'<script type="module" src="/static/([^"]+)" integrity="([^"]+)"', html
        )
        assert len(scripts) == 1 and len(re.findall(r"<script[^>]* src=", html)) == 1
        for path, integrity in scripts:
            assert integrity == _sri(path)
        importmap = json.loads(
            re.search(r'<script type="importmap"[^>]*>(.*?)</script>', html).group(1)
        )
        assert set(importmap["imports"]) == {"opencmk-crypto", "keyring-common"}
        for url in importmap["imports"].values():
            assert importmap["integrity"][url] == _sri(url.removeprefix("/static/"))
        assert response["Integrity-Policy"] == "blocked-destinations=(script), endpoints=(csp)"


def test_crypto_pages_allow_wasm_but_never_eval_or_inline_script(
    pages: list[Any], alice: Any
) -> None:
    for response in pages:
        csp = _csp(response)
        assert "'wasm-unsafe-eval'" in csp["script-src"]
        assert not {"'unsafe-eval'", "'unsafe-inline'", "*", "data:", "blob:"} & set(
            csp["script-src"]
        )
        assert csp["require-trusted-types-for"] == ["'script'"]
        assert csp["default-src"] == ["'none'"]
    nonces = {_csp(r)["script-src"][1] for r in pages}
    assert len(nonces) == len(pages)
    # Pages without libsodium keep the stricter site-wide policy.
    home = login(Client(), alice).get(reverse("home"), follow=True)
    assert "'wasm-unsafe-eval'" not in home["Content-Security-Policy"]


def test_keyring_code_has_no_html_injection_sinks() -> None:
    sources = [*PAGE_JS.glob("*.mjs"), *TEMPLATES.glob("*.html")]
    assert len(sources) >= 10
    for source in sources:
        text = source.read_text()
        for sink in (
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "|safe",
        ):
            assert sink not in text, f"{sink} in {source.name}"


def test_the_passphrase_inputs_can_never_be_submitted_as_form_data() -> None:
    # No name attribute: even a broken script cannot make the browser post the passphrase.
    for template in TEMPLATES.glob("*.html"):
        for tag in re.findall(r"<(?:input|textarea)[^>]*>", template.read_text()):
            assert " name=" not in tag, f"{template.name}: {tag}"


def test_user_key_endpoint_answers_201_then_409(alice: Any) -> None:
    client = login(Client(), alice)
    keys = OrgKeys.generate()
    body = {**pub(keys), "wrapped_secret": blob_for(keys)}
    url = reverse("keyring:api_user_key_create")

    first = client.post(url, data=json.dumps(body), content_type="application/json")
    second = client.post(url, data=json.dumps(body), content_type="application/json")

    assert first.status_code == 201 and first.json()["kid"] == kid(keys.signing_public)
    assert second.status_code == 409
    assert UserKey.objects.filter(user=alice).count() == 1


def test_endpoints_reject_non_json_and_oversized_bodies(alice: Any) -> None:
    client = login(Client(), alice)
    url = reverse("keyring:api_user_key_create")
    assert client.post(url, data="nope", content_type="application/json").status_code == 400
    assert client.post(url, data="[]", content_type="application/json").status_code == 400
    big = json.dumps({"x": "a" * 70_000})
    assert client.post(url, data=big, content_type="application/json").status_code == 400
    assert client.get(url).status_code == 405


def test_another_vendors_admin_cannot_reach_this_vendors_objects_through_their_own(
    pending_tenant_root: Any, oscar: Any, alice_key: Any
) -> None:
    """ACCEPTANCE Z-01: own organisation id, someone else's object id → 404, nothing changes."""
    from keyring import services
    from keyring.models import RootKeyShare, RootKeyStatus

    enrol_totp(oscar)
    other_vendor = oscar.vendor_memberships.get().vendor
    oscar_key = with_user_key(oscar)
    root = OrgKeys.generate()
    services.vendor_root_create(
        vendor=other_vendor,
        user=oscar,
        **pub(root),
        recipient_kid=oscar_key.user_key.kid,
        sealed_secret=seal_to(root.to_secret_bytes(), oscar_key.keys),
    )
    client = login(Client(), oscar)
    own = other_vendor.public_id
    approve = reverse("keyring:api_tenant_root_approve", args=[own, pending_tenant_root.public_id])
    share = reverse("keyring:api_vendor_share", args=[own])
    body = {
        "recipient": str(alice_key.user.public_id),
        "recipient_kid": alice_key.user_key.kid,
        "sealed_secret": seal_to(root.to_secret_bytes(), alice_key.keys),
    }

    answers = [
        client.post(approve, data="{}", content_type="application/json").status_code,
        client.post(share, data=json.dumps(body), content_type="application/json").status_code,
    ]

    assert answers == [404, 404]
    pending_tenant_root.refresh_from_db()
    assert pending_tenant_root.status == RootKeyStatus.PENDING_APPROVAL
    assert not RootKeyShare.objects.filter(recipient=alice_key.user).exists()
