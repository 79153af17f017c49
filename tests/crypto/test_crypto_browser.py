"""The browser crypto API in Debian's headless Chromium under the crypto page's CSP (H-03):
libsodium must run on WebAssembly (B-05), refuse to run without 'wasm-unsafe-eval' instead of
falling back to JavaScript, and what the browser signs, seals and wraps must verify and open in
Python (and the reverse)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import opencmk_crypto as oc

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
PAGE_DIR = Path(__file__).resolve().parent / "browser"
NONCE = "dGVzdC1ub25jZQ"
STRICT_CSP = (
    f"default-src 'none'; script-src 'self' 'nonce-{NONCE}' 'wasm-unsafe-eval'; "
    f"connect-src 'self'; style-src 'self' 'nonce-{NONCE}'; img-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
    "require-trusted-types-for 'script'"
)
NO_WASM_CSP = STRICT_CSP.replace(" 'wasm-unsafe-eval'", "")


class _Handler(SimpleHTTPRequestHandler):
    """/static/* from the repo, /page/* from tests/crypto/browser, /input.json from the test;
    /nowasm/... serves the same with a CSP lacking 'wasm-unsafe-eval'."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript"}
    input_json: bytes = b"{}"

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0].removeprefix("/nowasm")
        if path.startswith("/page/"):
            return str(PAGE_DIR / path.removeprefix("/page/"))
        if path.startswith("/static/"):
            return str(REPO / path.lstrip("/"))
        return str(REPO / "does-not-exist")

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0].endswith("/input.json"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(self.input_json)
            return
        super().do_GET()

    def end_headers(self) -> None:
        csp = NO_WASM_CSP if self.path.startswith("/nowasm/") else STRICT_CSP
        self.send_header("Content-Security-Policy", csp)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def recipient() -> oc.OrgKeys:
    return oc.OrgKeys.generate()


@pytest.fixture(scope="module")
def python_signer() -> oc.OrgKeys:
    return oc.OrgKeys.generate()


@pytest.fixture(scope="module")
def server(recipient: oc.OrgKeys, python_signer: oc.OrgKeys) -> Iterator[str]:
    if not (REPO / "static" / "vendor" / "opencmk-crypto.mjs").is_file():
        pytest.fail("static/vendor is missing: run `npm ci && npm run build` first")
    payload = {"type": "proxy-cluster-revocation", "vendor_id": "acme",
               "issued_at": oc.issued_at_now(), "cluster_id": "c-1"}  # fmt: skip
    handler = type("Handler", (_Handler,), {"input_json": json.dumps({
        "statement": oc.sign_statement(payload["type"], payload, python_signer.signing_key),
        "signing_public": oc.b64e(python_signer.signing_public),
        "recipient_public": oc.b64e(recipient.encryption_public),
        "plaintext": '{"token":"s.canary"}',
        "passphrase": "caf\u00e9 passphrase",
    }).encode()})  # fmt: skip
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(REPO)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from tests.browser import launch_chromium

    with launch_chromium() as browser:
        yield browser


def _run_page(browser: Any, url: str) -> dict[str, Any]:
    page = browser.new_page()
    try:
        page.goto(url)
        deadline = time.monotonic() + 30
        # page.evaluate goes through CDP, so the CSP (no 'unsafe-eval') does not block it.
        while (result := page.evaluate("window.__result")) is None:
            assert time.monotonic() < deadline, "page did not finish"
            time.sleep(0.05)
        return dict(result)
    finally:
        page.close()


@pytest.mark.parametrize("api", ["modules", "bundle"])
def test_browser_runs_libsodium_on_webassembly_under_strict_csp(
    browser: Any, server: str, api: str
) -> None:
    result = _run_page(browser, f"{server}/page/page.html?api={api}")
    assert "error" not in result, result.get("error")
    assert result["backend"] == "wasm"
    assert result["version"].startswith("1.0.")


@pytest.mark.parametrize("api", ["modules", "bundle"])
def test_browser_refuses_to_run_without_wasm_unsafe_eval(
    browser: Any, server: str, api: str
) -> None:
    result = _run_page(browser, f"{server}/nowasm/page/page.html?api={api}")
    # libsodium's WebAssembly.instantiate is blocked by the CSP and there is no JS fallback.
    assert "WebAssembly" in result.get("error", ""), result
    assert result.get("backend") != "wasm"


def test_what_the_browser_signs_seals_and_wraps_verifies_and_opens_in_python(
    browser: Any, server: str, recipient: oc.OrgKeys, python_signer: oc.OrgKeys
) -> None:
    result = _run_page(browser, f"{server}/page/page.html?api=bundle")
    assert result["python_payload"]["cluster_id"] == "c-1"  # the browser verified Python's
    public = oc.b64d(result["signing_public"])
    payload = oc.verify_statement(result["statement"], expected_type="tenant-root",
                                  public_key=public)  # fmt: skip
    assert payload["tenant_id"] == "tenant-1"
    plaintext = oc.open_config(result["sealed"], private_key=recipient.encryption_key,
                               tenant_id="tenant-1", config_id=17, kind="kms")  # fmt: skip
    assert plaintext == b'{"token":"s.canary"}'
    # The browser NFC-normalises too: the decomposed spelling opens the blob.
    secret = oc.unwrap_secret(result["blob"], "cafe\u0301 passphrase")
    assert oc.b64e(secret) == result["secret"]
    assert oc.OrgKeys.from_secret_bytes(secret).signing_public == public
