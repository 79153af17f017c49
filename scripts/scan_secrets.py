"""Leaked-secret scanner for the files git tracks (ACCEPTANCE K-09), run by CI after ruff:

    .venv/bin/python scripts/scan_secrets.py [REPO]      # REPO defaults to the current directory

Finds two kinds of secret:

* OpenCMK API keys, ``ocv_``/``oct_`` + 36 base62 characters whose last six are a CRC32 of the
  rest (apikeys/tokens.py). Only keys with a valid checksum count, so look-alikes in prose and
  made-up examples do not raise the alarm.
* Tenant Security Proxy private keys, as ``python -m tenant_security_proxy keygen`` prints them:
  ``TSP_CLUSTER_SIGNING_KEY=`` / ``TSP_CLUSTER_ENCRYPTION_KEY=`` followed by base64 of exactly
  32 bytes (``=`` or ``:``, quoted or not, so .env, YAML and JSON all match; ``${VAR}``
  references and empty values do not).

Each hit prints ``path:line: kind, redacted prefix, fingerprint`` and never the secret; the
exit status is 1 if anything was found, else 0. A deliberate test fixture is allowed by a line
``path sha256:<fingerprint>`` in ``.secrets-allowlist`` at the repository root (``#`` starts a
comment); the fingerprint is the one the hit prints, the first 16 hex digits of the secret's
SHA-256.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apikeys.tokens import SCAN_RE, is_well_formed, kind_of, prefix_of

ALLOWLIST = ".secrets-allowlist"
_API_KEY = re.compile(SCAN_RE)
_PROXY_KEY = re.compile(
    r"\b(TSP_CLUSTER_(?:SIGNING|ENCRYPTION)_KEY)[\"']?\s*[=:]\s*[\"']?([A-Za-z0-9+/]{43}=)"
)


@dataclass(frozen=True)
class Hit:
    """One secret found: where, what kind, and a redacted label; the secret itself is not kept."""

    path: str
    line: int
    kind: str
    redacted: str
    fingerprint: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind} {self.redacted} sha256:{self.fingerprint}"


def fingerprint(secret: str) -> str:
    """First 16 hex digits of SHA-256: names a secret in the allowlist without revealing it."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def _is_32_bytes(text: str) -> bool:
    try:
        return len(base64.b64decode(text, validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


def scan_text(path: str, text: str) -> Iterator[Hit]:
    """Every secret in ``text``, line by line."""
    for number, line in enumerate(text.splitlines(), start=1):
        for match in _API_KEY.finditer(line):
            key = match.group(0)
            if is_well_formed(key):
                kind = f"{kind_of(key)} API key"
                yield Hit(path, number, kind, prefix_of(key) + "…", fingerprint(key))
        for match in _PROXY_KEY.finditer(line):
            name, value = match.groups()
            if _is_32_bytes(value):
                yield Hit(path, number, "proxy private key", f"{name}=…", fingerprint(value))


def tracked_files(repo: Path) -> list[str]:
    """Paths git tracks in ``repo`` (index, so staged files count before their commit)."""
    out = subprocess.run(
        ["git", "-C", str(repo), "ls-files", "-z"], check=True, capture_output=True
    ).stdout
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def load_allowlist(repo: Path) -> set[tuple[str, str]]:
    """(path, fingerprint) pairs from the allowlist file; a missing file allows nothing."""
    allowed: set[tuple[str, str]] = set()
    file = repo / ALLOWLIST
    if not file.is_file():
        return allowed
    for raw in file.read_text().splitlines():
        fields = raw.split("#", 1)[0].split()
        if len(fields) == 2 and fields[1].startswith("sha256:"):
            allowed.add((fields[0], fields[1].removeprefix("sha256:")))
    return allowed


def scan_repo(repo: Path) -> list[Hit]:
    """Hits in every tracked text file of ``repo`` that the allowlist does not name."""
    allowed = load_allowlist(repo)
    hits = []
    for path in tracked_files(repo):
        file = repo / path
        # Deleted in the work tree, a submodule, or a link (a tracked target is scanned itself).
        if file.is_symlink() or not file.is_file():
            continue
        data = file.read_bytes()
        if b"\0" in data[:8192]:  # binary
            continue
        for hit in scan_text(path, data.decode("utf-8", "replace")):
            if (hit.path, hit.fingerprint) not in allowed:
                hits.append(hit)
    return hits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repo", nargs="?", default=".", type=Path)
    args = parser.parse_args(argv)
    hits = scan_repo(args.repo)
    for hit in hits:
        print(hit)
    if hits:
        print(
            f"{len(hits)} secret(s) found. Revoke and rotate them; a deliberate test fixture "
            f"goes into {ALLOWLIST} as 'path sha256:<fingerprint>'.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
