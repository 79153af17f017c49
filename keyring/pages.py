"""What the CSP of a page that runs libsodium adds to the site-wide policy (ACCEPTANCE H-03)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from csp.constants import SELF
from csp.decorators import csp_replace, csp_update
from django.http import HttpResponse

from broker.security.reporting import REPORT_GROUP

# WebAssembly compilation needs 'wasm-unsafe-eval' (never 'unsafe-eval'); Trusted Types with no
# policy at all makes any HTML-injection sink throw, and these pages use none (B-10).
CRYPTO_PAGE_CSP = {
    "script-src": ["'wasm-unsafe-eval'"],
    "require-trusted-types-for": ["'script'"],
    "trusted-types": ["'none'"],
}


def crypto_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For views that render a page running libsodium: CSP additions and Integrity-Policy."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> HttpResponse:
        response = view(*args, **kwargs)
        # Every script must carry integrity metadata, or the browser refuses it (H-05); refusals
        # are reported to the same endpoint as CSP violations.
        response.headers["Integrity-Policy"] = (
            f"blocked-destinations=(script), endpoints=({REPORT_GROUP})"
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    # No data: images where keys are handled (ACCEPTANCE H-03 lists img-src 'self' only).
    return csp_replace({"img-src": [SELF]})(csp_update(CRYPTO_PAGE_CSP)(wrapped))  # type: ignore[return-value]
