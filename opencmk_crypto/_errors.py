"""Exceptions raised by :mod:`opencmk_crypto`.

Exception tree::

    CryptoError                 root; also raised for malformed base64 and bad key sizes
    ├── StatementError          bad signature, wrong type, malformed statement or payload
    ├── SealError               cannot open, malformed sealed config, AD mismatch
    └── PassphraseError         wrong key passphrase or malformed passphrase blob

Messages never contain key material, plaintext or passphrases.
"""

from __future__ import annotations


class CryptoError(Exception):
    """Root of every error raised by opencmk_crypto."""


class StatementError(CryptoError):
    """A signed statement is malformed, has the wrong type, or its signature does not verify."""


class SealError(CryptoError):
    """A sealed config is malformed, is not addressed to us, or fails to decrypt."""


class PassphraseError(CryptoError):
    """A passphrase blob is malformed or the passphrase is wrong."""
