"""CSP violations in a real browser reach the report endpoint (ACCEPTANCE H-03).

Chromium posts reports through the Reporting API (``report-to csp``; it ignores ``report-uri``
when ``report-to`` is present), only for documents served over https, and batches them for up
to a minute. So chromium reaches the live server through a local TLS front (a trustme
certificate; chromium is told to accept it), and ``--short-reporting-delay`` sends reports
within a second. The live server runs in this process: the test polls the log records the
endpoint writes, with a deadline, instead of sleeping a fixed time.
"""

from __future__ import annotations

import json
import logging
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import trustme
from playwright.sync_api import Browser, Page

from tests.browser import launch_chromium
from tests.keyring.browser import Session, browser_session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LOGGER = "broker.security.csp_reports"

# Runs from a timer, as page code would: page.evaluate itself is exempt from CSP (DevTools).
PROBES = """() => setTimeout(() => {
    const out = {};
    try { eval("1"); out.eval = "ran"; } catch (e) { out.eval = e.name; }
    try {
        const s = document.createElement("script");
        s.appendChild(document.createTextNode("window.__injected = 1"));
        document.body.appendChild(s);
        out.inject = "appended";
    } catch (e) { out.inject = e.name; }
    window.__probe = out;
}, 0)"""


class _TlsFront(socketserver.ThreadingTCPServer):
    """Terminates TLS on 127.0.0.1 and pipes each connection to the plain live server."""

    daemon_threads = True

    def __init__(self, upstream: tuple[str, int], context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Pipe)
        self.upstream, self.context = upstream, context

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # chromium drops idle or refused connections at will; nothing to report


class _Pipe(socketserver.BaseRequestHandler):
    server: _TlsFront

    def handle(self) -> None:
        with (
            self.server.context.wrap_socket(self.request, server_side=True) as client,
            socket.create_connection(self.server.upstream) as upstream,
        ):
            back = threading.Thread(target=_copy, args=(upstream, client), daemon=True)
            back.start()
            _copy(client, upstream)
            back.join(timeout=30)


def _copy(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
        target.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the other direction closed first


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    # The front's certificate comes from a throw-away CA chromium does not know.
    with launch_chromium("--short-reporting-delay", "--ignore-certificate-errors") as browser:
        yield browser


@pytest.fixture(scope="module")
def https_url(live_server: Any) -> Iterator[str]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("localhost").configure_cert(context)
    upstream = urlsplit(live_server.url)
    front = _TlsFront((upstream.hostname or "localhost", upstream.port or 80), context)
    thread = threading.Thread(target=front.serve_forever, daemon=True)
    thread.start()
    yield f"https://localhost:{front.server_address[1]}"
    front.shutdown()
    front.server_close()


@pytest.fixture
def session(chromium: Browser, https_url: str, alice: Any) -> Iterator[Session]:
    opened = browser_session(chromium, https_url, alice)
    yield opened
    opened.context.close()  # before the live server may stop: no request in flight


@pytest.fixture
def reports(caplog: pytest.LogCaptureFixture) -> Any:
    """``reports(**fields)`` waits (20 s at most) for a logged violation with those fields."""
    caplog.set_level(logging.WARNING, logger=LOGGER)

    def wait_for(**fields: str) -> dict[str, str]:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for record in list(caplog.records):
                if record.name == LOGGER:
                    logged = json.loads(record.getMessage())
                    if fields.items() <= logged.items():
                        return logged  # type: ignore[no-any-return]
            time.sleep(0.05)
        seen = [r.getMessage() for r in caplog.records if r.name == LOGGER]
        raise AssertionError(f"no violation report with {fields}; got {seen}")

    return wait_for


def _probe(page: Page) -> dict[str, Any]:
    page.evaluate(PROBES)
    # Polled through evaluate (CDP), never wait_for_function: the page's CSP forbids eval.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        outcome = page.evaluate("() => window.__probe && {...window.__probe}")
        if outcome:
            outcome["injected"] = page.evaluate("() => window.__injected === 1")
            return outcome  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError("the probes did not run")


def test_a_key_page_blocks_eval_and_injected_scripts_and_reports_them(
    session: Session, reports: Any
) -> None:
    page = session.open("/keys/")  # returns once libsodium's ready() resolved on WebAssembly

    outcome = _probe(page)

    assert outcome["eval"] == "EvalError"
    assert outcome["injected"] is False
    # Trusted Types (no policy at all on key pages) refuse both before CSP's script-src does;
    # the sample is the sink and at most 40 characters of what was refused.
    logged = reports(blocked="trusted-types-sink", document="/keys/", sample="eval|1")
    assert logged["directive"] == "require-trusted-types-for"
    assert logged["type"] == "csp-violation" and logged["disposition"] == "enforce"
    reports(blocked="trusted-types-sink", sample="HTMLScriptElement text|window.__injected")
    # Integrity-Policy reports to the same endpoint: a module without integrity metadata.
    load = """async (url) => {
        try { await import(url); return "loaded"; } catch (e) { return "blocked"; }
    }"""
    assert page.evaluate(load, "/static/js/crypto/errors.mjs") == "blocked"
    reports(type="integrity-violation", blocked=session.base_url, document="/keys/")


def test_a_portal_page_blocks_a_script_without_nonce_and_reports_it(
    session: Session, acme: Any, reports: Any
) -> None:
    page = session.goto(f"/vendors/{acme.public_id}/")

    outcome = _probe(page)

    assert outcome["inject"] == "appended"  # no Trusted Types here: the nonce alone stops it
    assert outcome["injected"] is False and outcome["eval"] == "EvalError"
    reports(blocked="inline", directive="script-src-elem", document="/vendors/<uuid:vendor>/")
    reports(blocked="eval", directive="script-src", document="/vendors/<uuid:vendor>/")
