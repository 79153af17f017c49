"""Schemathesis against the live schema, in-process over WSGI (ACCEPTANCE F-02).

Fixed seed (``derandomize``) and a modest number of examples per operation keep CI fast and
repeatable; run more by hand with ``OPENCMK_SCHEMATHESIS_EXAMPLES=1000``. Requests carry a vendor
key or a tenant key, matching the operation, so they get past authentication; half of the
generated tenant ids are replaced by a real tenant's id so the handlers behind 404 run too.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hsettings

from broker.wsgi import application
from tests.api.conftest import make_key
from tests.broker.factories import TenantFactory

EXAMPLES = int(os.environ.get("OPENCMK_SCHEMATHESIS_EXAMPLES", "12"))

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Any:
    """Schemathesis calls the WSGI app directly, not through Django's test client, so Django's
    end-of-request hook would close the connection that holds the test's transaction (on
    PostgreSQL: "the connection is closed" on the next request). Do what the test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def keys(acme: Any, globex: Any, settings: Any) -> dict[str, Any]:
    settings.OPENCMK_API_RATE_PER_KEY = "100000/min"
    settings.OPENCMK_API_RATE_PER_IP = "100000/min"
    TenantFactory(vendor=acme, tenant_id="spare")
    return {"vendor": make_key(acme), "tenant": make_key(acme, globex), "globex": globex}


@pytest.mark.slow
@schema.parametrize()
@hsettings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_never_answers_with_a_server_error(case: Any, keys: dict[str, Any]) -> None:
    kind = "tenant" if case.path.startswith("/api/v1/tenant/") else "vendor"
    params = case.path_parameters or {}
    if "tenant" in params and str(params["tenant"])[:1] in "01234567":
        params["tenant"] = str(keys["globex"].public_id)
    case.call_and_validate(headers={"Authorization": f"Bearer {keys[kind]}"})
