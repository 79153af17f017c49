"""API fixtures: keys by organisation, and a client that sends one.

acme_key — vendor key of Acme (alice's vendor); globex_key — tenant key of Acme's tenant globex;
initech_key — vendor key of another vendor, Initech.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from apikeys.services import api_key_create
from audit.actors import Actor
from tests.broker.factories import VendorFactory


class ApiClient:
    """JSON requests with ``Authorization: Bearer <key>`` (or none)."""

    def __init__(self, key: str | None = None) -> None:
        self.key = key
        self.client = Client()

    def request(self, method: str, path: str, body: Any = None, **extra: Any) -> Any:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.key}"} if self.key else {}
        data = json.dumps(body) if body is not None else ""
        return self.client.generic(
            method, path, data=data, content_type="application/json", **(headers | extra)
        )

    def get(self, path: str, **extra: Any) -> Any:
        return self.request("GET", path, **extra)

    def post(self, path: str, body: Any = None, **extra: Any) -> Any:
        return self.request("POST", path, body if body is not None else {}, **extra)

    def patch(self, path: str, body: Any, **extra: Any) -> Any:
        return self.request("PATCH", path, body, **extra)

    def delete(self, path: str, **extra: Any) -> Any:
        return self.request("DELETE", path, **extra)


def make_key(vendor: Any, tenant: Any = None, **options: Any) -> str:
    _, secret = api_key_create(
        actor=Actor.system("test"), vendor=vendor, tenant=tenant, name="test key", **options
    )
    return secret


@pytest.fixture
def initech(db: None) -> Any:
    return VendorFactory(name="Initech")


@pytest.fixture
def acme_key(acme: Any) -> str:
    return make_key(acme)


@pytest.fixture
def globex_key(globex: Any) -> str:
    return make_key(globex.vendor, globex)


@pytest.fixture
def initech_key(initech: Any) -> str:
    return make_key(initech)


@pytest.fixture
def api(acme_key: str) -> ApiClient:
    return ApiClient(acme_key)
