"""An in-process KMS for proxy unit tests: AES-GCM with the tenant id as AAD, counting calls.

The real providers are tested in tests/proxy/kms/ against OpenBao, moto and protocol fakes; here
we only need something that binds the tenant like they do and lets tests count calls and fail.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections import Counter
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tenant_security_proxy.errors import ProxyError

PROVIDER = "local-test"


def local_config(*, fail: bool = False, delay_s: float = 0.0) -> dict[str, Any]:
    key = base64.b64encode(os.urandom(32)).decode()
    return {"provider": PROVIDER, "key": key, "fail": fail, "delay_s": delay_s}


class LocalKms:
    def __init__(self, config: Mapping[str, Any], tenant_id: str, calls: Counter[str]) -> None:
        if config.get("provider") != PROVIDER or "key" not in config:
            raise ProxyError(207)
        self._aead = AESGCM(base64.b64decode(config["key"]))
        self._aad = tenant_id.encode()
        self.fail = bool(config.get("fail"))
        self.delay_s = float(config.get("delay_s") or 0)
        self.prepare_delay_s = float(config.get("prepare_delay_s") or 0)
        self.prepared = False
        self.calls = calls
        self.closed = False

    async def wrap(self, dek: bytes) -> bytes:
        self.calls["wrap"] += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail:
            raise ProxyError(208)
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, dek, self._aad)

    async def prepare(self) -> None:
        """Like KmsClient.prepare: a one-off SDK warm-up before the first call."""
        if self.prepare_delay_s:
            await asyncio.sleep(self.prepare_delay_s)
        self.prepared = True

    async def unwrap(self, data: bytes) -> bytes:
        self.calls["unwrap"] += 1
        if self.fail:
            raise ProxyError(208)
        try:
            return self._aead.decrypt(data[:12], data[12:], self._aad)
        except InvalidTag:
            raise ProxyError(205) from None

    async def close(self) -> None:
        self.closed = True


class LocalKmsFactory:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.built: list[LocalKms] = []

    def __call__(self, config: Mapping[str, Any], tenant_id: str, config_id: int) -> LocalKms:
        kms = LocalKms(config, tenant_id, self.calls)
        self.built.append(kms)
        return kms
