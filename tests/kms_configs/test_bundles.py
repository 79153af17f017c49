"""GET /api/v1/proxy/bundles: snapshot paging, incremental polls, 304, scoping, deletions."""

from __future__ import annotations

from typing import Any

import pytest

from kms_configs.browser import ConfigDraft
from tests.kms_configs.conftest import ProxyClient, World, kms_draft

pytestmark = pytest.mark.django_db
BUNDLES = "/api/v1/proxy/bundles"


def _snapshot(proxy: ProxyClient, limit: int = 500) -> tuple[list[dict[str, Any]], Any]:
    pages, cursor = [], None
    while True:
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = proxy.get(BUNDLES + query)
        assert response.status_code == 200
        page = response.json()
        pages.append(page)
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return pages, response


def _poll(proxy: ProxyClient, cursor: str, etag: str | None = None) -> Any:
    extra = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return proxy.get(f"{BUNDLES}?limit=500&cursor={cursor}", **extra)


def _ids(page: dict[str, Any]) -> list[str]:
    return [b["tenant_id"] for b in page["tenants"]]


def test_a_snapshot_pages_through_every_served_tenant(world: World, proxy: ProxyClient) -> None:
    world.publish()
    others = [world.new_tenant(f"t-{i}") for i in range(4)]
    for signer in others:
        world.publish(signer)
    pages, last = _snapshot(proxy, limit=2)
    assert [p["kind"] for p in pages] == ["snapshot"] * 3
    assert [p["has_more"] for p in pages] == [True, True, False]
    assert sorted(t for p in pages for t in _ids(p)) == sorted(
        ["globex"] + [s.tenant.tenant_id for s in others]
    )
    assert pages[-1]["next_cursor"].startswith("c:")
    assert last["ETag"] == f'"{pages[-1]["next_cursor"]}"'
    page = pages[0]
    assert page["vendor_id"] == str(world.vendor.public_id)
    assert page["clusters"] == [world.cluster.statement.statement]
    assert page["revocations"] == []


def test_a_bundle_is_what_the_browser_signed(world: World, proxy: ProxyClient) -> None:
    policy = world.publish()
    bundle = _snapshot(proxy)[0][0]["tenants"][0]
    assert bundle["policy"] == policy.statement
    assert bundle["tenant_root"] == world.tenant.root_key.statement.statement
    assert len(bundle["sealed_configs"]) == 1
    assert bundle["sealed_configs"][0]["config_id"] == policy.payload["kms_configs"][0]["config_id"]


def test_disabled_configs_are_left_out_of_bundles(world: World, proxy: ProxyClient) -> None:
    keep, drop = kms_draft(), kms_draft(state="active")
    world.signer.publish([keep, drop], [world.cluster])
    drop.state = "disabled"
    with world.committed():
        world.signer.publish([keep, drop], [world.cluster], upload=[])
    bundle = _snapshot(proxy)[0][0]["tenants"][0]
    assert [s["config_id"] for s in bundle["sealed_configs"]] == [keep.config_id]


def test_only_tenants_whose_policy_allows_the_cluster_are_served(
    world: World, proxy: ProxyClient
) -> None:
    from kms_configs import browser

    world.publish()
    keys, west = browser.cluster_register(world.vendor, world.alice, world.vendor_root, name="w")
    other = world.new_tenant("west-only")
    other.publish([kms_draft()], [west])
    unpublished = world.new_tenant("no-policy-yet")
    assert unpublished
    assert _ids(_snapshot(proxy)[0][0]) == ["globex"]
    assert _ids(_snapshot(ProxyClient(keys, west.cluster_id))[0][0]) == ["west-only"]


def test_incremental_polls_deliver_changes_and_304_when_nothing_changed(
    world: World, proxy: ProxyClient
) -> None:
    world.publish()
    pages, last = _snapshot(proxy)
    cursor, etag = pages[-1]["next_cursor"], last["ETag"]
    unchanged = _poll(proxy, cursor, etag)
    assert unchanged.status_code == 304
    policy = world.publish()
    changed = _poll(proxy, cursor, etag)
    assert changed.status_code == 200
    page = changed.json()
    assert page["kind"] == "changes"
    assert [b["policy"] for b in page["tenants"]] == [policy.statement]
    assert changed["ETag"] == f'"{page["next_cursor"]}"' != etag
    assert _poll(proxy, page["next_cursor"], changed["ETag"]).status_code == 304


def test_changes_page_by_limit(world: World, proxy: ProxyClient) -> None:
    cursor = _snapshot(proxy)[0][-1]["next_cursor"]
    signers = [world.new_tenant(f"p-{i}") for i in range(3)]
    for signer in signers:
        world.publish(signer)
    seen: list[str] = []
    while True:
        page = proxy.get(f"{BUNDLES}?limit=2&cursor={cursor}").json()
        seen += _ids(page)
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert sorted(seen) == sorted(s.tenant.tenant_id for s in signers)


def test_a_tenant_that_removes_the_cluster_or_is_deleted_is_listed_as_deleted(
    world: World, proxy: ProxyClient
) -> None:
    world.publish()
    gone = world.new_tenant("gone")
    world.publish(gone)
    cursor = _snapshot(proxy)[0][-1]["next_cursor"]
    # globex signs a policy without this cluster; "gone" is deleted outright.
    with world.committed():
        world.signer.publish([ConfigDraft(config=kms_draft().config)], [])
        gone.tenant.delete()  # with its approved root key and statements
    page = _poll(proxy, cursor).json()
    assert page["tenants"] == []
    assert sorted(page["deleted_tenants"]) == ["globex", "gone"]


def test_a_cluster_registration_changes_the_etag(world: World, proxy: ProxyClient) -> None:
    from kms_configs import browser

    pages, last = _snapshot(proxy)
    with world.committed():
        browser.cluster_register(world.vendor, world.alice, world.vendor_root, name="second")
    response = _poll(proxy, pages[-1]["next_cursor"], last["ETag"])
    assert response.status_code == 200
    assert len(response.json()["clusters"]) == 2


@pytest.mark.parametrize("cursor", ["c:999999", "bogus", "s:x:1"])
def test_an_unusable_cursor_answers_410(world: World, proxy: ProxyClient, cursor: str) -> None:
    response = _poll(proxy, cursor)
    assert (response.status_code, response.json()["error"]) == (410, "cursor_expired")


def test_a_page_costs_a_constant_number_of_queries(
    world: World, proxy: ProxyClient, django_assert_max_num_queries: Any
) -> None:
    from django.core.cache import cache

    cursor = _snapshot(proxy)[0][-1]["next_cursor"]
    for i in range(12):
        world.publish(world.new_tenant(f"q-{i}"))
    cache.clear()
    with django_assert_max_num_queries(16):
        big = _poll(proxy, cursor)
    assert len(big.json()["tenants"]) == 12
    with django_assert_max_num_queries(16):
        assert len(_snapshot(proxy)[0][0]["tenants"]) == 12


def test_a_value_read_before_a_commit_is_never_served_after_it(
    world: World, proxy: ProxyClient
) -> None:
    from django.core.cache import cache

    from kms_configs.changes import latest_seq, seq_cache_key, seq_generation_key

    world.publish()
    before = latest_seq(world.vendor.pk)
    stale_generation = cache.get(seq_generation_key(world.vendor.pk))
    world.publish()  # commits and replaces the generation
    # A poll that read the database before that commit stores its value late (the race).
    cache.set(seq_cache_key(world.vendor.pk), (stale_generation, before), 30)
    assert latest_seq(world.vendor.pk) > before
