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
    """One pytest.param per Wycheproof case, id ``tc<id>-<result>-<flags>``, value (group, test)."""
    params = []
    for group in load(name)["testGroups"]:
        for test in group["tests"]:
            if keep(group, test):
                flags = "+".join(test.get("flags", [])) or "none"
                case_id = f"tc{test['tcId']}-{test['result']}-{flags}"
                params.append(pytest.param(group, test, id=case_id))
    return params
