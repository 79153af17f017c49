"""Playwright helpers for the keyring browser tests (Debian's chromium, headless).

Every request a page sends is captured, so tests can assert that no passphrase or private key
ever leaves the browser (ACCEPTANCE B-04, issue 4 item 9).
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, Request

from opencmk_crypto import b64e
from tests.broker.factories import login
from tests.browser import launch_chromium


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with launch_chromium() as browser:
        yield browser


@dataclass
class Session:
    """One logged-in browser context, recording every request its pages send."""

    context: BrowserContext
    base_url: str
    requests: list[bytes] = field(default_factory=list)

    def record(self, request: Request) -> None:
        # Read at once: pages are closed later, and a closed page's requests cannot be asked.
        self.requests.append(request.url.encode())
        self.requests.extend(f"{k}: {v}".encode() for k, v in request.headers.items())
        self.requests.append(request.post_data_buffer or b"")

    def goto(self, path: str) -> Page:
        """Opens any page (closing earlier ones, which may still reload themselves)."""
        for old in self.context.pages:
            old.close()
        page = self.context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(self.base_url + path)
        return page

    def open(self, path: str) -> Page:
        """Opens a keyring page and waits until libsodium runs on WebAssembly (B-05)."""
        page = self.goto(path)
        # Polls through the DOM (never an eval-compiled predicate: the page's CSP forbids eval).
        page.wait_for_selector('html[data-crypto-backend="wasm"]', timeout=15_000)
        return page

    def sent(self) -> list[bytes]:
        """Every URL, header and body sent by the pages of this session, as bytes."""
        return list(self.requests)

    def assert_never_sent(self, *secrets: str | bytes) -> None:
        blobs = self.sent()
        assert any(b"/keys/" in b for b in blobs)  # the capture itself works
        for secret in secrets:
            for form in _forms(secret):
                assert not any(form in blob for blob in blobs), "a secret left the browser"


def _forms(secret: str | bytes) -> list[bytes]:
    """The encodings a leaked secret could take in a request."""
    if isinstance(secret, str):
        return [secret.encode(), secret.encode().hex().encode()]
    forms = [b64e(secret).encode(), binascii.hexlify(secret)]
    # Each 32-byte half (the Ed25519 seed, the X25519 secret) on its own, too.
    for half in (secret[:32], secret[32:]):
        if half:
            forms += [b64e(half).rstrip("=").encode(), binascii.hexlify(half)]
    return forms


def browser_session(browser: Browser, base_url: str, user: Any) -> Session:
    client = login(Client(), user)
    context = browser.new_context()
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": base_url,
            }
        ]
    )
    session = Session(context, base_url)
    context.on("request", session.record)
    return session


@pytest.fixture
def sessions(chromium: Browser, live_server: Any) -> Iterator[Any]:
    """``sessions(user)`` opens a logged-in browser session against the live server; every
    context closes before the live server may stop, so no request is in flight at teardown."""
    opened: list[Session] = []

    def open_session(user: Any) -> Session:
        session = browser_session(chromium, live_server.url, user)
        opened.append(session)
        return session

    yield open_session
    for session in opened:
        session.context.close()


def wait_status(page: Page, kind: str = "success", timeout: float = 20_000) -> str:
    """Waits for the page's status line to report ``kind``; returns its text."""
    page.wait_for_selector(
        f'#kr-status[data-kind="{kind}"], #kr-status[data-kind="error"]', timeout=timeout
    )
    text = page.inner_text("#kr-status")
    assert page.get_attribute("#kr-status", "data-kind") == kind, text
    return text


def unlock(page: Page, passphrase: str) -> None:
    page.wait_for_selector("#kr-unlock:not([hidden])")
    page.fill("#kr-unlock-passphrase", passphrase)
    page.click("#kr-unlock button[type=submit]")


def storage_is_empty(page: Page) -> bool:
    """Nothing in localStorage, sessionStorage, IndexedDB or Cache Storage (ACCEPTANCE B-09)."""
    counts = page.evaluate(
        """async () => [localStorage.length, sessionStorage.length,
            (await indexedDB.databases()).length, (await caches.keys()).length]"""
    )
    return bool(counts == [0, 0, 0, 0])
