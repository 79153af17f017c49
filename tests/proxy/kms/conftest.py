"""Helpers for KMS tests: one config per provider pointing at its session service, an isolated
breaker registry per test, and a manual clock for breaker tests."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from tenant_security_proxy.kms import BreakerRegistry, KmsClient, build_kms
from tests.fakes.azure_key_vault import AzureKeyVaultFake
from tests.fakes.gcp_kms import GcpKmsFake
from tests.fixtures.kms_services import MotoKms, OpenBao

_names = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


def run(awaitable: Awaitable[Any]) -> Any:
    async def main() -> Any:
        return await awaitable

    return asyncio.run(main())


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def breakers() -> BreakerRegistry:
    return BreakerRegistry()


@pytest.fixture
def make_kms(breakers: BreakerRegistry) -> Iterator[Callable[..., KmsClient]]:
    made: list[KmsClient] = []

    def make(config: dict[str, Any], tenant_id: str = "tenant-a", **kwargs: Any) -> KmsClient:
        kwargs.setdefault("breakers", breakers)
        client = build_kms(config, tenant_id=tenant_id, config_id=7, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:  # SDK sessions hold sockets; close them like the proxy does
        run(client.close())


@pytest.fixture
def gcp(gcp_kms_fake: GcpKmsFake) -> Iterator[GcpKmsFake]:
    gcp_kms_fake.reset()
    yield gcp_kms_fake
    gcp_kms_fake.reset()


@pytest.fixture
def azure(azure_kv_fake: AzureKeyVaultFake) -> Iterator[AzureKeyVaultFake]:
    azure_kv_fake.reset()
    yield azure_kv_fake
    azure_kv_fake.reset()


@pytest.fixture
def vault_config(openbao: OpenBao) -> dict[str, Any]:
    key = openbao.create_transit_key(unique("tsp"))
    return {
        "provider": "vault-transit",
        "address": openbao.address,
        "token": openbao.token,
        "key_name": key,
    }


@pytest.fixture
def aws_config(moto_kms: MotoKms) -> dict[str, Any]:
    return {
        "provider": "aws-kms",
        "key_arn": moto_kms.create_key(),
        "access_key_id": "AKIAEXAMPLEPROXY",
        "secret_access_key": "proxy-secret-access-key",
        "endpoint": moto_kms.endpoint,
    }


@pytest.fixture
def gcp_config(gcp: GcpKmsFake) -> dict[str, Any]:
    return {
        "provider": "gcp-kms",
        **gcp.create_key(unique("key")),
        **gcp.service_account(),
        "endpoint": gcp.endpoint,
    }


@pytest.fixture
def azure_config(azure: AzureKeyVaultFake) -> dict[str, Any]:
    name = unique("key")
    azure.create_key(name)
    return {
        "provider": "azure-key-vault",
        "vault_url": azure.vault_url,
        "key_name": name,
        **azure.credentials(),
        "authority": azure.authority,
    }


@pytest.fixture
def azure_ca(azure: AzureKeyVaultFake) -> str:
    return azure.ca_file
