"""Fixtures for proxy unit tests: a fake broker and a Runtime wired to a local test KMS."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tenant_security_proxy.config import load_settings
from tenant_security_proxy.runtime import Runtime
from tests.fakes.broker import FakeBroker, World
from tests.fixtures.proxy import API_KEY, API_KEY_2
from tests.proxy.helpers import RecordingHub
from tests.proxy.localkms import LocalKmsFactory


@dataclass
class Harness:
    world: World
    broker: FakeBroker
    kms: LocalKmsFactory
    hub: RecordingHub

    def runtime(self, **env: str) -> Runtime:
        page_limit = int(env.pop("page_limit", "500"))
        settings = load_settings(
            self.world.env()
            | {
                "TSP_API_KEY": API_KEY,
                "TSP_API_KEY_2": API_KEY_2,
                "TSP_BROKER_URL": self.broker.url,
            }
            | env
        )
        return Runtime(settings, kms_factory=self.kms, hub=self.hub, page_limit=page_limit)


@pytest.fixture
def harness() -> Iterator[Harness]:
    world = World()
    broker = FakeBroker(world).start()
    yield Harness(world, broker, LocalKmsFactory(), RecordingHub())
    broker.stop()


def run(coro: Any) -> Any:
    return asyncio.run(coro)
