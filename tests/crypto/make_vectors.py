"""Produces cross-language vectors with opencmk_crypto for the JavaScript side to check.

Inputs: tests/vectors/crypto/vector_plan.json (shared with tests/js/make_vectors.mjs).
Usage: PYTHONPATH=. .venv/bin/python tests/crypto/make_vectors.py OUT.json
Committed output: tests/vectors/crypto/python_made.json.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import nacl

import opencmk_crypto as oc

PLAN = Path(__file__).resolve().parent.parent / "vectors" / "crypto" / "vector_plan.json"


def keys_from_label(label: str) -> oc.OrgKeys:
    """Test keys: BLAKE2b-512(label) = Ed25519 seed || X25519 secret (as the JS maker)."""
    return oc.OrgKeys.from_secret_bytes(hashlib.blake2b(label.encode(), digest_size=64).digest())


def describe(keys: oc.OrgKeys) -> dict[str, str]:
    return {
        "kid": keys.kid,
        "encryption_kid": keys.encryption_kid,
        "signing_public": oc.b64e(keys.signing_public),
        "encryption_public": oc.b64e(keys.encryption_public),
    }


def _sealed(item: dict[str, Any], recipient: oc.OrgKeys) -> dict[str, Any]:
    blob = oc.seal_config(
        kind=item["kind"],
        tenant_id=item["tenant_id"],
        config_id=item["config_id"],
        plaintext=item["plaintext"].encode(),
        recipients=[recipient.encryption_public],
    )
    return {**item, "sealed": blob, "content_digest": oc.content_digest(blob)}


def _passphrase(item: dict[str, Any]) -> dict[str, Any]:
    blob = oc.wrap_secret(
        oc.b64d(item["secret"]),
        item["passphrase"],
        opslimit=oc.OPSLIMIT_INTERACTIVE,
        memlimit=oc.MEMLIMIT_INTERACTIVE,
    )
    return {**item, "blob": blob}


def make_vectors() -> dict[str, Any]:
    plan = json.loads(PLAN.read_text(encoding="utf-8"))
    signer = keys_from_label(plan["signer_label"])
    recipient = keys_from_label(plan["recipient_label"])
    return {
        "made_by": f"python, PyNaCl {nacl.__version__}",
        "signer_label": plan["signer_label"],
        "recipient_label": plan["recipient_label"],
        "signer": describe(signer),
        "recipient": describe(recipient),
        "canonical_json": [
            {"value": v, "bytes": oc.b64e(oc.canonical_json(v))} for v in plan["canonical_json"]
        ],
        "statements": [
            {"payload": p, "statement": oc.sign_statement(p["type"], p, signer.signing_key)}
            for p in plan["statements"]
        ],
        "sealed": [_sealed(item, recipient) for item in plan["sealed"]],
        "passphrase": [_passphrase(item) for item in plan["passphrase"]],
    }


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_vectors.py OUT.json")
    text = json.dumps(make_vectors(), indent=2, ensure_ascii=False) + "\n"
    Path(sys.argv[1]).write_text(text, encoding="utf-8")
