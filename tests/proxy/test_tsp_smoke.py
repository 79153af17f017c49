from __future__ import annotations

import pytest

from tests.proxy.helpers import meta, post

pytestmark = pytest.mark.services


def test_wrap_then_unwrap_returns_the_same_dek_for_leased_and_unleased_tenants(tsp):
    for tenant in (tsp.tenant_id, tsp.tenant_id_unleased):
        status, wrapped = post(tsp.url, "document/wrap", meta(tenant), api_key=tsp.api_key)
        assert status == 200, wrapped
        status, unwrapped = post(
            tsp.url,
            "document/unwrap",
            meta(tenant) | {"encryptedDocumentKey": wrapped["edek"]},
            api_key=tsp.api_key,
        )
        assert status == 200, unwrapped
        assert unwrapped["dek"] == wrapped["dek"]
