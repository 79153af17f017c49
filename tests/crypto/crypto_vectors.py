"""Loads the JSON vector files in tests/vectors/crypto/ as readable pytest parameters."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

VECTOR_DIR = Path(__file__).resolve().parent.parent / "vectors" / "crypto"


def load(name: str) -> Any:
    return json.loads((VECTOR_DIR / name).read_text(encoding="utf-8"))


def wycheproof_cases(
    name: str, keep: Callable[[dict[str, Any], dict[str, Any]], bool] = lambda g, t: True
) -> list[Any]:
    """Wycheproof cases bucketed by result and flags, one pytest.param per bucket with id
    ``<result>-<flags>``, value a list of ``(case_id, group, test)``; ``case_id`` is
    ``tc<id>`` for failure messages. Buckets, not single cases, keep ~1000 vectors cheap
    under pytest-xdist."""
    buckets: dict[str, list[tuple[str, dict[str, Any], dict[str, Any]]]] = {}
    for group in load(name)["testGroups"]:
        for test in group["tests"]:
            if keep(group, test):
                flags = "+".join(test.get("flags", [])) or "none"
                bucket = buckets.setdefault(f"{test['result']}-{flags}", [])
                bucket.append((f"tc{test['tcId']} ({test.get('comment', '')})", group, test))
    return [pytest.param(cases, id=key) for key, cases in sorted(buckets.items())]
