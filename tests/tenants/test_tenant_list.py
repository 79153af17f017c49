"""The vendor's tenant list: search, status filter, keyset pagination, constant query count."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tenants.models import Tenant, TenantStatus
from tenants.pagination import COUNT_CAP, Cursor
from tenants.selectors import PER_PAGE

pytestmark = pytest.mark.django_db


def _bulk(vendor: Any, n: int, *, prefix: str = "t", status: str = TenantStatus.INVITED) -> None:
    Tenant.objects.bulk_create(
        [
            Tenant(
                vendor=vendor,
                tenant_id=f"{prefix}{i:05d}",
                name=f"Customer {prefix}{i:05d}",
                status=status,
            )
            for i in range(n)
        ],
        batch_size=2000,
    )


def _list(client: Client, vendor: Any, **params: str) -> Any:
    return client.get(reverse("tenants:vendor_list", kwargs={"vendor": vendor.public_id}), params)


def test_pages_walk_every_tenant_once_in_name_order(alice_client: Client, acme: Any) -> None:
    _bulk(acme, 2 * PER_PAGE + 7)
    seen: list[str] = []
    params: dict[str, str] = {}
    while True:
        page = _list(alice_client, acme, **params).context["page"]
        seen.extend(t.tenant_id for t in page.items)
        if not page.next_cursor:
            break
        params = {"after": page.next_cursor}

    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 2 * PER_PAGE + 7


def test_previous_page_returns_the_page_before(alice_client: Client, acme: Any) -> None:
    _bulk(acme, 3 * PER_PAGE)
    first = _list(alice_client, acme).context["page"]
    second = _list(alice_client, acme, after=first.next_cursor).context["page"]

    back = _list(alice_client, acme, before=second.prev_cursor).context["page"]

    assert [t.pk for t in back.items] == [t.pk for t in first.items]
    assert back.prev_cursor is None


def test_search_matches_tenant_id_or_name_case_insensitively(
    alice_client: Client, acme: Any, globex: Any
) -> None:
    _bulk(acme, 30)
    Tenant.objects.create(vendor=acme, tenant_id="zz-9", name="Umbrella Health")

    by_id = _list(alice_client, acme, q="GLOBEX").context["page"]
    by_name = _list(alice_client, acme, q="umbrella").context["page"]

    assert [t.tenant_id for t in by_id.items] == ["globex"]
    assert [t.tenant_id for t in by_name.items] == ["zz-9"]


def test_status_filter_and_empty_state(alice_client: Client, acme: Any) -> None:
    _bulk(acme, 5, prefix="inv")
    _bulk(acme, 3, prefix="act", status=TenantStatus.ACTIVE)

    active = _list(alice_client, acme, status="active")
    nothing = _list(alice_client, acme, status="active", q="no-such-tenant")

    assert {t.status for t in active.context["page"].items} == {"active"}
    assert active.context["page"].total == 3
    assert b"No tenant matches" in nothing.content


def test_other_vendors_tenants_never_appear(alice_client: Client, acme: Any) -> None:
    from tests.broker.factories import TenantFactory

    TenantFactory(tenant_id="foreign", name="Customer foreign")

    page = _list(alice_client, acme, q="foreign").context["page"]

    assert page.items == []


def test_a_garbled_cursor_falls_back_to_the_first_page(alice_client: Client, acme: Any) -> None:
    _bulk(acme, 3)

    response = _list(alice_client, acme, after="!!not-a-cursor!!")

    assert response.status_code == 200
    assert len(response.context["page"].items) == 3
    assert Cursor.decode("e30") is None  # valid base64 of "{}", not a cursor


def _queries(client: Client, vendor: Any, **params: str) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as ctx:
        response = _list(client, vendor, **params)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


@pytest.mark.slow
def test_ten_thousand_tenants_page_with_a_constant_number_of_queries(
    alice_client: Client, acme: Any, django_assert_max_num_queries: Any
) -> None:
    _bulk(acme, 30)
    small, _ = _queries(alice_client, acme)
    _bulk(acme, 10_000, prefix="big")

    with django_assert_max_num_queries(small):
        first = _list(alice_client, acme)
    page = first.context["page"]
    assert page.total == COUNT_CAP and page.total_capped
    assert b"More than 1,000" in first.content
    # Deep in the list (keyset: no OFFSET), searching, and filtering cost the same.
    cursor = Cursor(
        name="Customer big09000", public_id=Tenant.objects.get(tenant_id="big09000").public_id
    )
    deep, response = _queries(alice_client, acme, after=cursor.encode())
    assert deep <= small
    assert response.context["page"].items[0].tenant_id == "big09001"
    assert _queries(alice_client, acme, q="big0999")[0] <= small
    assert _queries(alice_client, acme, status="invited", after=cursor.encode())[0] <= small
