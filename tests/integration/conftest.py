"""Broker + proxy end-to-end tests reuse the provisioned world of tests/kms_configs."""

from __future__ import annotations

from tests.kms_configs.conftest import world

__all__ = ["world"]
