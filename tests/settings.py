"""Settings for the test suite: the broker's own, with one Redis database per xdist worker.

Every database test clears the cache first (tests/conftest.py). With one Redis database shared
by the parallel workers, one worker's clear would wipe another's rate-limit counters and cached
sessions in the middle of a test; a database number per worker keeps them apart.
"""

from __future__ import annotations

import os
import tempfile
from urllib.parse import urlsplit, urlunsplit

from broker.settings import *  # noqa: F403
from broker.settings import CACHES, REDIS_URL

_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if REDIS_URL and _worker.startswith("gw"):
    _parts = urlsplit(REDIS_URL)
    _db = int(_parts.path.strip("/") or 0) + 1 + int(_worker[2:])
    CACHES["default"]["LOCATION"] = urlunsplit(_parts._replace(path=f"/{_db}"))

# Checkpoints published during tests (L-06) go to a scratch directory, never into .local/.
OPENCMK_AUDIT_CHECKPOINT_DIR = tempfile.mkdtemp(prefix="opencmk-test-checkpoints-")
