"""Make event data safe to store: secrets redacted, JSON-normalised, storable on every database."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"

# Key names that may carry a secret. Deliberately broad: a redacted harmless value costs nothing,
# a stored secret cannot be removed from an append-only log (L-08).
_SECRET_KEY_RE = re.compile(
    r"pass(word|wd|phrase)?|secret|token|private|credential|api_?key|authori[sz]ation|cookie"
    r"|session|otp|seed|recovery|sealed_key|signing_key_private|\bcek\b|\bdek\b",
    re.IGNORECASE,
)
MAX_STRING = 2000


def is_secret_key(name: str) -> bool:
    return bool(_SECRET_KEY_RE.search(name))


def clean_text(value: str, limit: int = MAX_STRING) -> str:
    """Strings every backend can store: no NUL (PostgreSQL text), no lone surrogates (UTF-8)."""
    text = value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    return text[:limit]


def redact(value: Any, *, depth: int = 0) -> Any:
    if depth > 8:
        return "[too deep]"
    if isinstance(value, Mapping):
        return {
            clean_text(str(k), 200): REDACTED
            if is_secret_key(str(k))
            else redact(v, depth=depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v, depth=depth + 1) for v in value]
    if isinstance(value, bool | int | None):
        return value
    if isinstance(value, float):
        # NaN/inf are not JSON; decimals would round-trip differently per backend.
        return value if value == value and abs(value) != float("inf") else str(value)
    return clean_text(str(value))


def normalise_data(data: Mapping[str, Any] | None) -> dict[str, Any]:
    """Redacted data exactly as it will read back from the database (so the hash matches)."""
    if not data:
        return {}
    redacted = redact(data)
    return json.loads(json.dumps(redacted, sort_keys=True))
