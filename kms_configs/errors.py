"""Errors of the kms_configs app. Messages name fields, never secret values."""

from __future__ import annotations


class KmsConfigError(Exception):
    """Root of the app's errors; ``status`` is the HTTP answer a view gives for it."""

    status = 400


class PolicyRejectedError(KmsConfigError):
    """A submitted policy or sealed config is invalid; nothing was stored."""


class PolicyConflictError(KmsConfigError):
    """The policy's version does not follow the latest one (someone else signed meanwhile)."""

    status = 409
