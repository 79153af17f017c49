"""The start-up canary: SDK warm-up is not part of the timed KMS round trip (loader.py)."""

from __future__ import annotations

import asyncio
from collections import Counter

from tenant_security_proxy.loader import run_canary
from tenant_security_proxy.state import ConfigRuntime
from tests.proxy.localkms import LocalKms, local_config


def _config(**kms_options: float) -> tuple[ConfigRuntime, LocalKms]:
    kms = LocalKms(local_config() | kms_options, "acme", Counter())
    config = ConfigRuntime(config_id=1, provider="local-test", state="primary", content_digest="d")
    config.kms = kms
    return config, kms


def test_a_slow_sdk_warm_up_does_not_fail_a_good_config():
    config, kms = _config(prepare_delay_s=0.3)
    asyncio.run(run_canary(config, timeout_s=0.1))
    assert kms.prepared
    assert config.canary == "ok" and config.canary_error is None


def test_a_kms_round_trip_slower_than_the_canary_timeout_still_fails_the_config():
    config, _ = _config(delay_s=0.3)
    asyncio.run(run_canary(config, timeout_s=0.1))
    assert config.canary == "failed"
    assert config.canary_error is not None and config.canary_error.code == 208
