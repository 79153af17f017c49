"""The sync change log (docs/sync-protocol.md §2): one row per change a proxy must learn about.

Policies write their row from ``services.policy_submit``. Tenant-root approvals and cluster
registrations and revocations are written by keyring services, which this app may not edit:
every one of them stores a ``keyring.Statement`` in its transaction, so one ``post_save``
receiver on that model adds the change row inside the same transaction. Tenant deletions (by
any path, including a vendor's cascade) are caught the same way by ``post_delete``. A signal is
the narrowest correct hook here: it cannot miss a writer, and it adds no domain decision.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Max

from kms_configs.models import ChangeKind, ChangeLog
from vendors.models import Vendor

# The vendor's latest change id is cached so an unchanged poll (304) touches no database. The
# cached value is tagged with a generation token that every commit replaces (on_commit), so a
# value read from the database before a commit can never be served after it.
SEQ_CACHE_SECONDS = 30
_STATEMENT_KINDS = {
    "tenant-root": ChangeKind.TENANT_ROOT,
    "proxy-cluster": ChangeKind.CLUSTER,
    "proxy-cluster-revocation": ChangeKind.REVOCATION,
}


def cache_is_shared() -> bool:
    """Only a cache every broker process sees (Redis) may stand in for the database: with a
    per-process cache (the embedded default's LocMemCache under several gunicorn workers) one
    worker would never see another's invalidation."""
    backend = str(settings.CACHES["default"]["BACKEND"])
    return not backend.endswith(("LocMemCache", "DummyCache"))


def seq_cache_key(vendor_pk: int) -> str:
    return f"kms_configs:seq:{vendor_pk}"


def seq_generation_key(vendor_pk: int) -> str:
    return f"kms_configs:seqgen:{vendor_pk}"


def cluster_cache_key(cluster_id: str) -> str:
    return f"kms_configs:cluster:{cluster_id}"


def change_record(
    *, vendor_pk: int, kind: str, tenant_pk: int | None = None, tenant_ref: str = ""
) -> ChangeLog:
    """Append a change; call inside the transaction that makes the change."""
    # Serialise a vendor's change rows until commit: ids then grow in commit order, so a poll
    # that saw id N can never later miss an id < N committing behind it (PostgreSQL).
    list(Vendor.objects.select_for_update().filter(pk=vendor_pk).values_list("pk"))
    row = ChangeLog.objects.create(
        vendor_id=vendor_pk, tenant_id=tenant_pk, tenant_ref=tenant_ref, kind=kind
    )
    transaction.on_commit(lambda: cache.set(seq_generation_key(vendor_pk), uuid.uuid4().hex, None))
    return row


def latest_seq(vendor_pk: int) -> int:
    """The vendor's newest change id: one cache round trip, or one query after a change."""
    if not cache_is_shared():
        return _db_latest_seq(vendor_pk)
    key, gen_key = seq_cache_key(vendor_pk), seq_generation_key(vendor_pk)
    found = cache.get_many([key, gen_key])
    generation, cached = found.get(gen_key), found.get(key)
    if generation is not None and cached is not None and cached[0] == generation:
        return int(cached[1])
    if generation is None:
        cache.add(gen_key, uuid.uuid4().hex, None)
        generation = cache.get(gen_key)
    # Read the generation first, the database second: a commit in between replaces the
    # generation, so this (possibly older) value is never used after it.
    top = _db_latest_seq(vendor_pk)
    cache.set(key, (generation, top), SEQ_CACHE_SECONDS)
    return top


def _db_latest_seq(vendor_pk: int) -> int:
    top = ChangeLog.objects.filter(vendor_id=vendor_pk).aggregate(top=Max("id"))["top"]
    return int(top or 0)


def on_statement_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    kind = _STATEMENT_KINDS.get(instance.type)
    if not created or kind is None or kwargs.get("raw"):
        return
    tenant = instance.tenant
    change_record(
        vendor_pk=instance.vendor_id,
        kind=kind,
        tenant_pk=instance.tenant_id,
        tenant_ref=tenant.tenant_id if tenant is not None else "",
    )
    if kind != ChangeKind.TENANT_ROOT:
        subject = instance.subject
        transaction.on_commit(lambda: cache.delete(cluster_cache_key(subject)))


def on_tenant_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    change_record(
        vendor_pk=instance.vendor_id,
        kind=ChangeKind.TENANT_DELETED,
        tenant_pk=instance.pk,
        tenant_ref=instance.tenant_id,
    )


def connect() -> None:
    from django.db.models.signals import post_delete, post_save

    from keyring.models import Statement
    from tenants.models import Tenant

    post_save.connect(on_statement_saved, sender=Statement, dispatch_uid="kms_configs.statement")
    post_delete.connect(on_tenant_deleted, sender=Tenant, dispatch_uid="kms_configs.tenant_del")
