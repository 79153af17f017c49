"""Debian's chromium driven by Playwright, the one way every browser test starts it.

Never `playwright install`: the browser comes from apt (`make install-browser`). The flags keep
chromium off the network (this machine has none but loopback) and quiet. Use it from a
module-scoped fixture, never a session-scoped one: while sync Playwright is open it keeps an
asyncio loop running in the test thread, which breaks later tests that call asyncio.run().
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def launch_chromium(*extra_args: str) -> Iterator[Browser]:
    """Starts chromium with ``LAUNCH_ARGS`` plus ``extra_args`` (e.g. ``--short-reporting-delay``,
    which sends Reporting API reports within a second instead of batching them for a minute)."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "Debian's chromium is required: make install-browser (apt-get install chromium)"
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable, headless=True, args=[*LAUNCH_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            browser.close()


# Run from a timer, as page code would: page.evaluate itself is exempt from CSP (DevTools
# protocol). The result is read after a short wait, never awaited with an eval'd predicate.
_CSP_PROBES = """() => setTimeout(() => {
    const out = {};
    try { eval("1"); out.eval = "ran"; } catch (e) { out.eval = e.name; }
    try {
        const s = document.createElement("script");
        s.textContent = "window.__injected = 1";
        document.body.appendChild(s);
    } catch (e) { out.inject = e.name; }
    try { document.body.innerHTML += "<b>x</b>"; out.html = "ran"; }
    catch (e) { out.html = e.name; }
    window.__probe = out;
}, 0)"""


def csp_probe(page: Page) -> dict[str, Any]:
    """Try eval, an injected inline script and an HTML sink on ``page``; say what happened
    (``eval``/``html``: the error name or "ran"; ``injected``: whether the script ran)."""
    page.evaluate(_CSP_PROBES)
    page.wait_for_timeout(200)
    result: dict[str, Any] = page.evaluate(
        "() => ({...window.__probe, injected: window.__injected === 1})"
    )
    return result
