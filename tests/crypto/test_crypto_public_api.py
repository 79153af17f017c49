from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import opencmk_crypto


def test_public_names_are_pinned() -> None:
    assert opencmk_crypto.__all__ == [
        "MEMLIMIT_INTERACTIVE",
        "MEMLIMIT_MODERATE",
        "OPSLIMIT_INTERACTIVE",
        "OPSLIMIT_MODERATE",
        "STATEMENT_TYPES",
        "CryptoError",
        "OrgKeys",
        "PassphraseError",
        "SealError",
        "StatementError",
        "add_recipient",
        "associated_data",
        "b64d",
        "b64e",
        "canonical_json",
        "content_digest",
        "fingerprint",
        "is_kid",
        "issued_at_now",
        "kid",
        "open_config",
        "seal_config",
        "sign_statement",
        "statement_payload_unverified",
        "unwrap_secret",
        "validate_passphrase_blob",
        "validate_sealed_structure",
        "verify_statement",
        "wrap_secret",
    ]


def test_errors_share_one_root() -> None:
    for name in ("StatementError", "SealError", "PassphraseError"):
        assert issubclass(getattr(opencmk_crypto, name), opencmk_crypto.CryptoError)


def test_importing_it_loads_no_django() -> None:
    code = (
        "import sys, opencmk_crypto; print(any(m.split('.')[0] == 'django' for m in sys.modules))"
    )
    root = Path(opencmk_crypto.__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == "False"
