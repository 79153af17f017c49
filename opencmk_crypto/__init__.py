"""OpenCMK's crypto core: signed statements, sealed configs and passphrase blobs (PyNaCl).

Free of Django: imported by the broker and by the proxy. Formats: DESIGN.md §2-4 and
docs/crypto.md. The browser implementation in static/js/crypto/ produces the same formats.
"""

from __future__ import annotations

from ._encoding import b64d, b64e, canonical_json
from ._errors import CryptoError, PassphraseError, SealError, StatementError
from ._keys import OrgKeys, fingerprint, is_kid, kid
from .passphrase import (
    MEMLIMIT_INTERACTIVE,
    MEMLIMIT_MODERATE,
    OPSLIMIT_INTERACTIVE,
    OPSLIMIT_MODERATE,
    unwrap_secret,
    validate_passphrase_blob,
    wrap_secret,
)
from .sealing import (
    add_recipient,
    associated_data,
    content_digest,
    open_config,
    seal_config,
    validate_sealed_structure,
)
from .statements import (
    STATEMENT_TYPES,
    issued_at_now,
    sign_statement,
    statement_payload_unverified,
    verify_statement,
)

__all__ = [
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
