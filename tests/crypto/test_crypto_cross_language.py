"""Cross-language vectors: what the browser code (static/js/crypto) makes, Python verifies and
opens, and the reverse. Fixed files (tests/vectors/crypto/*_made.json) and live generation."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import opencmk_crypto as oc
from tests.crypto.crypto_vectors import VECTOR_DIR, load
from tests.crypto.make_vectors import keys_from_label, make_vectors

REPO = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")
STATEMENT_TYPES = sorted(oc.STATEMENT_TYPES)


def _flip_b64(value: str, index: int) -> str:
    raw = bytearray(oc.b64d(value))
    raw[index] ^= 0x01
    return oc.b64e(bytes(raw))


def check_keys(vectors: dict[str, Any]) -> None:
    for role in ("signer", "recipient"):
        keys = keys_from_label(vectors[f"{role}_label"])
        described = vectors[role]
        assert oc.b64e(keys.signing_public) == described["signing_public"]
        assert oc.b64e(keys.encryption_public) == described["encryption_public"]
        assert keys.kid == described["kid"] == oc.kid(oc.b64d(described["signing_public"]))
        assert keys.encryption_kid == described["encryption_kid"]


def check_canonical_json(vectors: dict[str, Any]) -> None:
    for case in vectors["canonical_json"]:
        assert oc.canonical_json(case["value"]) == oc.b64d(case["bytes"])


def check_statements(vectors: dict[str, Any]) -> None:
    public = oc.b64d(vectors["signer"]["signing_public"])
    assert len(vectors["statements"]) == len(STATEMENT_TYPES)
    for case in vectors["statements"]:
        statement, type_ = case["statement"], case["payload"]["type"]
        assert (
            oc.verify_statement(statement, expected_type=type_, public_key=public)
            == (case["payload"])
        )
        for other in STATEMENT_TYPES:
            if other != type_:
                with pytest.raises(oc.StatementError):
                    oc.verify_statement(statement, expected_type=other, public_key=public)
                with pytest.raises(oc.StatementError):
                    oc.verify_statement(
                        {**statement, "type": other}, expected_type=other, public_key=public
                    )
        for field in ("payload", "sig"):
            with pytest.raises(oc.StatementError):
                changed = {**statement, field: _flip_b64(statement[field], 5)}
                oc.verify_statement(changed, expected_type=type_, public_key=public)
        with pytest.raises(oc.StatementError):
            oc.verify_statement(
                statement, expected_type=type_, public_key=oc.OrgKeys.generate().signing_public
            )


def check_sealed(vectors: dict[str, Any]) -> None:
    recipient = keys_from_label(vectors["recipient_label"])
    for case in vectors["sealed"]:
        sealed = case["sealed"]
        oc.validate_sealed_structure(sealed)
        assert oc.content_digest(sealed) == case["content_digest"]
        plaintext = oc.open_config(
            sealed,
            private_key=recipient.encryption_key,
            tenant_id=case["tenant_id"],
            config_id=case["config_id"],
            kind=case["kind"],
        )
        assert plaintext == case["plaintext"].encode()
        with pytest.raises(oc.SealError):
            oc.open_config(
                {**sealed, "tenant_id": sealed["tenant_id"] + "x"},
                private_key=recipient.encryption_key,
            )
        with pytest.raises(oc.SealError):
            oc.open_config(sealed, private_key=oc.OrgKeys.generate().encryption_key)


def check_passphrase(vectors: dict[str, Any]) -> None:
    for case in vectors["passphrase"]:
        blob = case["blob"]
        assert oc.unwrap_secret(blob, case["unwrap_with"]) == oc.b64d(case["secret"])
        with pytest.raises(oc.PassphraseError):
            oc.unwrap_secret(blob, case["unwrap_with"] + "!")


CHECKS = [check_keys, check_canonical_json, check_statements, check_sealed, check_passphrase]


@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
def test_python_accepts_committed_javascript_vectors(check: Any) -> None:
    vectors = load("js_made.json")
    assert vectors["made_by"].startswith("javascript")
    check(vectors)


@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
def test_python_accepts_its_own_committed_vectors(check: Any) -> None:
    # Guards the committed python_made.json the JS side tests against.
    check(load("python_made.json"))


def _node(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    assert NODE is not None, "node is required for the cross-language tests"
    bundle = REPO / "static" / "vendor" / "libsodium-sumo.mjs"
    assert bundle.is_file(), "static/vendor is missing: run `npm ci && npm run build` first"
    return subprocess.run([NODE, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_python_accepts_freshly_made_javascript_vectors(tmp_path: Path) -> None:
    out = tmp_path / "js_made.json"
    done = _node("tests/js/make_vectors.mjs", str(out))
    assert done.returncode == 0, done.stderr
    vectors = json.loads(out.read_text(encoding="utf-8"))
    for check in CHECKS:
        check(vectors)


@pytest.mark.slow
def test_javascript_accepts_freshly_made_python_vectors(tmp_path: Path) -> None:
    out = tmp_path / "python_made.json"
    out.write_text(json.dumps(make_vectors(), ensure_ascii=False), encoding="utf-8")
    done = _node("tests/js/check_vectors.mjs", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "python vectors: ok" in done.stdout


@pytest.mark.slow
def test_javascript_rejects_a_tampered_python_vector(tmp_path: Path) -> None:
    vectors = make_vectors()
    statement = vectors["statements"][0]["statement"]
    statement["sig"] = _flip_b64(statement["sig"], 0)
    out = tmp_path / "tampered.json"
    out.write_text(json.dumps(vectors), encoding="utf-8")
    done = _node("tests/js/check_vectors.mjs", str(out))
    assert done.returncode != 0
    assert "StatementError" in done.stdout + done.stderr


def test_vector_files_are_in_place() -> None:
    for name in ("js_made.json", "python_made.json", "vector_plan.json"):
        assert (VECTOR_DIR / name).is_file()
