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

import pytest
from playwright.sync_api import Browser, sync_playwright

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
