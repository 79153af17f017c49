"""scripts/scan_secrets.py, the CI leaked-key scanner (ACCEPTANCE K-09).

Runs the script as CI does, on throwaway git repositories holding planted secrets (minted here,
so no literal key sits in this file for the real scan to find), and on this repository.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from apikeys.tokens import ALPHABET, generate, prefix_of

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "scan_secrets.py"


def _scan(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(repo)], capture_output=True, text=True, check=False
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


def _track(repo: Path, path: str, text: str) -> None:
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(text)
    subprocess.run(["git", "-C", str(repo), "add", path], check=True)


def _fingerprint_line(output: str) -> str:
    return output.strip().splitlines()[0].rsplit(" ", 1)[1]


def _wrong_checksum(key: str) -> str:
    last = key[-1]
    return key[:-1] + ALPHABET[(ALPHABET.index(last) + 1) % len(ALPHABET)]


def test_a_planted_valid_key_is_reported_by_place_never_by_value(repo: Path) -> None:
    vendor, tenant = generate("vendor").secret, generate("tenant").secret
    _track(repo, "settings/local.py", f'API_KEY = "{vendor}"\n')
    _track(repo, "docs/howto.md", f"intro\n\n    curl -H 'Authorization: Bearer {tenant}'\n")

    result = _scan(repo)

    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("docs/howto.md:3: tenant API key " + prefix_of(tenant) + "…")
    assert lines[1].startswith("settings/local.py:1: vendor API key " + prefix_of(vendor) + "…")
    for secret in (vendor, tenant):
        assert secret not in result.stdout + result.stderr
        assert secret[len(prefix_of(secret)) :][:8] not in result.stdout + result.stderr


def test_a_lookalike_with_a_wrong_checksum_is_not_reported(repo: Path) -> None:
    lookalike = _wrong_checksum(generate("vendor").secret)
    _track(repo, "tests/test_auth.py", f'BAD = "{lookalike}"\n')

    result = _scan(repo)

    assert (result.returncode, result.stdout) == (0, "")


def test_an_allowlisted_fixture_is_not_reported_but_the_same_key_elsewhere_is(
    repo: Path,
) -> None:
    key = generate("tenant").secret
    _track(repo, "tests/fixtures/keys.txt", key + "\n")
    fingerprint = _fingerprint_line(_scan(repo).stdout)
    _track(repo, ".secrets-allowlist", f"# a fixture\ntests/fixtures/keys.txt {fingerprint}\n")

    assert (_scan(repo).returncode, _scan(repo).stdout) == (0, "")

    _track(repo, "app/config.py", f"KEY = {key!r}\n")
    elsewhere = _scan(repo)
    assert elsewhere.returncode == 1
    assert elsewhere.stdout.startswith("app/config.py:1: tenant API key")


def test_untracked_files_are_not_scanned(repo: Path) -> None:
    (repo / "notes.txt").write_text(generate("vendor").secret)

    assert _scan(repo).returncode == 0


def test_proxy_private_keys_from_keygen_are_reported(repo: Path) -> None:
    signing = base64.b64encode(os.urandom(32)).decode()
    encryption = base64.b64encode(os.urandom(32)).decode()
    _track(repo, "deploy/proxy.env", f"TSP_CLUSTER_SIGNING_KEY={signing}\n")
    _track(repo, "deploy/values.yaml", f'env:\n  TSP_CLUSTER_ENCRYPTION_KEY: "{encryption}"\n')

    result = _scan(repo)

    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith(
        "deploy/proxy.env:1: proxy private key TSP_CLUSTER_SIGNING_KEY=…"
    )
    assert result.stdout.splitlines()[1].startswith(
        "deploy/values.yaml:2: proxy private key TSP_CLUSTER_ENCRYPTION_KEY=…"
    )
    assert signing not in result.stdout and encryption not in result.stdout


def test_proxy_key_references_and_wrong_lengths_are_not_reported(repo: Path) -> None:
    _track(
        repo,
        "deploy/proxy.env",
        "TSP_CLUSTER_SIGNING_KEY=${SIGNING_KEY}\n"
        "TSP_CLUSTER_ENCRYPTION_KEY=\n"
        f"TSP_CLUSTER_SIGNING_KEY={base64.b64encode(os.urandom(16)).decode()}\n"
        'os.environ["TSP_CLUSTER_SIGNING_KEY"]\n',
    )

    assert _scan(repo).returncode == 0


def test_this_repository_scans_clean() -> None:
    result = _scan(ROOT)

    assert result.stdout == ""
    assert result.returncode == 0
