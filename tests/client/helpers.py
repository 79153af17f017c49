"""Shared helpers for the SDK tests: vector loading and in-process key material."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tenant_security_client import _format as fmt

VECTORS = Path(__file__).resolve().parent.parent / "vectors"


def load_vectors(relative: str) -> dict[str, Any]:
    """Load a JSON vector file from tests/vectors/."""
    return json.loads((VECTORS / relative).read_text())


def ironcore_cases() -> dict[str, dict[str, Any]]:
    """IronCore document vectors by id."""
    return {case["id"]: case for case in load_vectors("ironcore/document_vectors.json")["tests"]}


def wycheproof_params(relative: str) -> list[Any]:
    """Every Wycheproof case as a pytest param with a readable id."""
    data = load_vectors(relative)
    params = []
    for group in data["testGroups"]:
        for case in group["tests"]:
            case_id = f"tc{case['tcId']}-{case['result']}-{'-'.join(case.get('flags', []))}"
            params.append(pytest.param(group, case, id=case_id))
    return params


def new_key() -> fmt.DataKey:
    """A fresh random DEK, as the proxy would return it."""
    return fmt.DataKey(bytearray(os.urandom(32)))
