"""Scripts with Subresource Integrity (ACCEPTANCE H-05).

``{% sri_script "js/pages/keyring/x.mjs" %}`` renders a module ``<script src>`` with the
sha384 of the file as served and the response's CSP nonce. ``{% sri_importmap %}`` renders
the import map the page modules resolve their imports through: every module a page can import
is named there together with its ``integrity``, because SRI on ``<script src>`` does not cover
the modules that script imports (Chromium honours import-map integrity for them).
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache
from pathlib import Path

from django import template
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Bare specifiers the page modules import; nothing else is importable on keyring pages.
IMPORT_MAP = {
    "opencmk-crypto": "vendor/opencmk-crypto.mjs",
    "keyring-common": "js/pages/keyring/common.mjs",
}


class MissingAssetError(LookupError):
    """A page names a static file that is not there (e.g. the npm build did not run)."""


def _read(path: str) -> bytes:
    found = finders.find(path)
    if found:
        return Path(str(found)).read_bytes()
    with staticfiles_storage.open(path) as handle:  # collected (production) files
        return bytes(handle.read())


@lru_cache(maxsize=64)
def _digest(path: str, stamp: float) -> str:
    digest = hashlib.sha384(_read(path)).digest()
    return "sha384-" + base64.b64encode(digest).decode("ascii")


def integrity(path: str) -> str:
    """sha384 of the served file, cached until the file changes."""
    found = finders.find(path)
    try:
        stamp = Path(str(found)).stat().st_mtime if found else 0.0
        return _digest(path, stamp)
    except (FileNotFoundError, OSError) as exc:
        raise MissingAssetError(f"static file {path} is missing; run `npm run build`") from exc


@register.simple_tag(takes_context=True)
def sri_script(context: template.Context, path: str) -> SafeString:
    return format_html(
        '<script type="module" src="{}" integrity="{}" crossorigin="anonymous" nonce="{}">'
        "</script>",
        static(path),
        integrity(path),
        _nonce(context),
    )


@register.simple_tag(takes_context=True)
def sri_importmap(context: template.Context) -> SafeString:
    imports = {name: static(path) for name, path in IMPORT_MAP.items()}
    hashes = {static(path): integrity(path) for path in IMPORT_MAP.values()}
    body = json.dumps({"imports": imports, "integrity": hashes}, sort_keys=True)
    # json.dumps output holds no "<", so it cannot close the script element early.
    body = body.replace("<", "\\u003c")
    return format_html(
        '<script type="importmap" nonce="{}">{}</script>',
        _nonce(context),
        mark_safe(body),  # noqa: S308
    )


def _nonce(context: template.Context) -> str:
    request = context.get("request")
    return str(getattr(request, "csp_nonce", "")) if request is not None else ""
