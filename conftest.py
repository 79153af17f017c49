"""Root pytest configuration: shared fixture modules and test-wide environment."""

from __future__ import annotations

import os

# Static files are served from the finders in tests (no collectstatic step).
os.environ.setdefault("OPENCMK_TESTING", "1")
# The sync Playwright API runs an event loop in the test thread; Django's ORM must still be usable.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = [
    "tests.fixtures.kms_services",
    "tests.fixtures.proxy",
]
