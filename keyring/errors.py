"""Errors of the keyring app; views turn them into 400, 403 and 409 answers."""

from __future__ import annotations


class KeyringError(Exception):
    """Root of the keyring app's errors. Messages never contain key material."""

    status = 400


class InvalidKeyMaterialError(KeyringError):
    """An uploaded key, sealed secret or passphrase blob is malformed."""


class StatementRejectedError(KeyringError):
    """An uploaded statement does not verify or does not say what the broker expects."""


class KeyringConflictError(KeyringError):
    """The operation clashes with what exists (a second root, an existing share)."""

    status = 409


class KeyringPermissionError(KeyringError):
    """The actor may not do this (not an admin, holds no share of the root key)."""

    status = 403


class KeyringNotFoundError(KeyringError):
    """An object named in the request is not in this organisation (404, like the chokepoints)."""

    status = 404
