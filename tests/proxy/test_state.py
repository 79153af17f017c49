"""Which IronCore code a tenant's unwrap gets, from the tenant's in-memory state alone."""

from __future__ import annotations

import pytest

from tenant_security_proxy import errors
from tenant_security_proxy.errors import ProxyError
from tenant_security_proxy.state import ConfigRuntime, TenantRuntime


def _tenant(*states: str) -> TenantRuntime:
    configs = {
        i: ConfigRuntime(config_id=i, provider="vault-transit", state=s, content_digest="d")
        for i, s in enumerate(states, start=1)
    }
    return TenantRuntime(tenant_id="t", version=1, policy_bytes=b"{}", configs=configs)


def _code(tenant: TenantRuntime, config_id: int) -> int:
    with pytest.raises(ProxyError) as caught:
        tenant.unwrap_config(config_id)
    return caught.value.code


def test_it_answers_202_for_an_edek_of_the_tenants_last_config_once_disabled() -> None:
    assert _code(_tenant("disabled"), 1) == errors.KMS_CONFIGURATION_DISABLED


def test_it_answers_202_for_a_disabled_config_beside_an_active_one() -> None:
    assert _code(_tenant("primary", "disabled"), 2) == errors.KMS_CONFIGURATION_DISABLED


def test_it_answers_201_for_an_unknown_config_when_nothing_is_usable() -> None:
    assert _code(_tenant("disabled"), 99) == errors.UNKNOWN_TENANT_OR_NO_ACTIVE_KMS_CONFIGURATIONS


def test_it_answers_202_for_a_config_that_left_the_policy() -> None:
    assert _code(_tenant("primary"), 99) == errors.KMS_CONFIGURATION_DISABLED


def test_it_unwraps_with_active_and_primary_configs() -> None:
    tenant = _tenant("primary", "active")
    assert [tenant.unwrap_config(i).config_id for i in (1, 2)] == [1, 2]
