from __future__ import annotations

import pytest

from opencmk_crypto import OrgKeys, issued_at_now


@pytest.fixture(scope="session")
def vendor_root() -> OrgKeys:
    return OrgKeys.generate()


@pytest.fixture(scope="session")
def other_vendor_root() -> OrgKeys:
    return OrgKeys.generate()


@pytest.fixture(scope="session")
def tenant_root() -> OrgKeys:
    return OrgKeys.generate()


@pytest.fixture(scope="session")
def cluster_keys() -> OrgKeys:
    return OrgKeys.generate()


@pytest.fixture
def tenant_root_payload(tenant_root: OrgKeys) -> dict[str, object]:
    from opencmk_crypto import b64e

    return {
        "type": "tenant-root",
        "vendor_id": "acme",
        "issued_at": issued_at_now(),
        "tenant_id": "tenant-1",
        "signing_key": b64e(tenant_root.signing_public),
        "encryption_key": b64e(tenant_root.encryption_public),
    }
