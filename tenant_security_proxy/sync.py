"""Sync with the broker: snapshot, then incremental polls with jitter (docs/sync-protocol.md)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import time
from collections.abc import Callable, Mapping
from typing import Any

from prometheus_client import Counter, Gauge

from tenant_security_proxy import __version__
from tenant_security_proxy.broker_client import BrokerClient, BrokerUnavailableError
from tenant_security_proxy.eventlog import proxy_event, rfc3339_now
from tenant_security_proxy.loader import Loader
from tenant_security_proxy.metrics import REGISTRY
from tenant_security_proxy.state import ProxyState
from tenant_security_proxy.verify import (
    BundleRejectedError,
    ClusterIdentity,
    ClusterRevokedError,
    verify_cluster,
    verify_tenant_bundle,
)

# A private generator: the global one is shared with (and reseeded by) other code, e.g. hypothesis.
_JITTER = random.Random()  # noqa: S311 - jitter, not crypto

log = logging.getLogger("tenant_security_proxy.sync")

SYNCS = Counter("tsp_sync", "Sync attempts by outcome", ["outcome"], registry=REGISTRY)
REJECTED = Counter("tsp_bundles_rejected", "Tenant bundles rejected", ["reason"], registry=REGISTRY)
TENANTS = Gauge("tsp_tenants_loaded", "Tenants loaded", registry=REGISTRY)
CONFIG_AGE = Gauge(
    "tsp_config_age_seconds", "Seconds since the last successful sync", registry=REGISTRY
)
_MAX_BACKOFF_S = 30.0
_CANARY_CONCURRENCY = 32


class SyncError(Exception):
    """A sync response could not be used (bad status, bad JSON, cluster not certified)."""


class Syncer:
    def __init__(
        self,
        *,
        client: BrokerClient,
        state: ProxyState,
        loader: Loader,
        me: ClusterIdentity,
        vendor_root: bytes,
        interval_s: float,
        heartbeat_interval_s: float = 30.0,
        page_limit: int = 500,
        event_stats: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        self.client, self.state, self.loader = client, state, loader
        self.me, self.vendor_root = me, vendor_root
        self.interval_s, self.heartbeat_interval_s = interval_s, heartbeat_interval_s
        self.page_limit = page_limit
        self.event_stats = event_stats
        self.cursor: str | None = None
        self.etag: str | None = None
        self.instance_id = f"{socket.gethostname()}-{_JITTER.getrandbits(32):08x}"
        self._last_heartbeat = 0.0
        CONFIG_AGE.set_function(lambda: self.state.config_age_s() or 0.0)
        TENANTS.set_function(lambda: len(self.state.tenants))

    # ---- one sync ------------------------------------------------------------------------

    async def sync_once(self) -> None:
        """Fetch and apply all pages (a snapshot if there is no cursor yet). Raises on failure."""
        snapshot = self.cursor is None
        cursor, etag, seen_ids = self.cursor, self.etag, set()
        while True:
            response = await self.client.bundles(
                cursor, None if snapshot else etag, self.page_limit
            )
            if response.status == 304:
                break
            if response.status == 410 and not snapshot:
                self.cursor = self.etag = None  # cursor expired: start over with a snapshot
                return await self.sync_once()
            if response.status != 200:
                raise SyncError(f"broker answered {response.status}")
            page = _json_object(response.json())
            seen_ids |= await self._apply_page(page)
            cursor, etag = page.get("next_cursor"), response.headers.get("ETag")
            if not page.get("has_more"):
                break
            if not isinstance(cursor, str):
                raise SyncError("has_more without next_cursor")
        if snapshot:
            for tenant_id in set(self.state.tenants) - seen_ids:
                await self.loader.remove(tenant_id, "absent_from_snapshot")
            self.state.loaded = True
        if isinstance(cursor, str):
            self.cursor, self.etag = cursor, etag or self.etag
        self.state.mark_synced()

    async def _apply_page(self, page: Mapping[str, Any]) -> set[str]:
        try:
            vendor_id = verify_cluster(
                _list(page.get("clusters")),
                _list(page.get("revocations")),
                vendor_root=self.vendor_root,
                me=self.me,
            )
        except ClusterRevokedError:
            await self._revoked()
            raise SyncError("cluster revoked") from None
        except BundleRejectedError as exc:
            REJECTED.labels(exc.reason).inc()
            raise SyncError(exc.reason) from None
        bundles = [b for b in _list(page.get("tenants")) if isinstance(b, Mapping)]
        gate = asyncio.Semaphore(_CANARY_CONCURRENCY)

        async def one(bundle: Mapping[str, Any]) -> str | None:
            async with gate:
                return await self._apply_bundle(bundle, vendor_id)

        seen = {t for t in await asyncio.gather(*(one(b) for b in bundles)) if t}
        for tenant_id in _list(page.get("deleted_tenants")):
            if isinstance(tenant_id, str):
                await self.loader.remove(tenant_id, "deleted")
        return seen

    async def _apply_bundle(self, bundle: Mapping[str, Any], vendor_id: str | int) -> str | None:
        tenant_id = bundle.get("tenant_id")
        if not isinstance(tenant_id, str):
            return None
        try:
            verified = verify_tenant_bundle(
                bundle,
                vendor_root=self.vendor_root,
                vendor_id=vendor_id,
                me=self.me,
                seen=self.state.seen.get(tenant_id),
            )
        except BundleRejectedError as exc:
            REJECTED.labels(exc.reason).inc()
            self.loader.reject(tenant_id, exc.reason)  # previous good state stays in place
            return tenant_id if tenant_id in self.state.tenants else None
        if verified is not None:
            await self.loader.apply(verified)
        return tenant_id

    async def _revoked(self) -> None:
        self.state.revoked = True
        for tenant_id in list(self.state.tenants):
            await self.loader.remove(tenant_id, "cluster_revoked")

    # ---- heartbeats ----------------------------------------------------------------------

    def heartbeat_payloads(self, batch: int = 1000) -> list[dict[str, Any]]:
        stats = self.event_stats() if self.event_stats else {}
        tenants = [
            self._tenant_status(t, stats)
            for t in sorted(set(self.state.tenants) | set(self.state.rejections))
        ]
        header = {
            "cluster_id": self.me.cluster_id,
            "instance_id": self.instance_id,
            "proxy_version": __version__,
            "sent_at": rfc3339_now(),
            "cursor": self.cursor,
            "ready": self.state.unavailable_reason() is None,
        }
        chunks = [tenants[i : i + batch] for i in range(0, len(tenants), batch)] or [[]]
        return [header | {"tenants": chunk} for chunk in chunks]

    def _tenant_status(self, tenant_id: str, stats: Mapping[str, Any]) -> dict[str, Any]:
        runtime = self.state.tenants.get(tenant_id)
        rejection = self.state.rejections.get(tenant_id)
        configs = (
            []
            if runtime is None
            else [
                {
                    "config_id": c.config_id,
                    "state": c.state,
                    "canary": c.canary,
                    "last_kms_error": c.last_kms_error,
                    "last_kms_error_at": _rfc3339(c.last_kms_error_at),
                    "counters": {"wraps": c.wraps, "unwraps": c.unwraps, "errors": c.errors},
                }
                for c in runtime.configs.values()
            ]
        )
        events = stats.get(tenant_id) if isinstance(stats, Mapping) else None
        return {
            "tenant_id": tenant_id,
            "policy_version": runtime.version if runtime else None,
            "status": "rejected" if rejection else "loaded",
            "rejection": rejection,
            "configs": configs,
            "events": dict(events) if isinstance(events, Mapping) else {},
        }

    async def send_heartbeat(self) -> None:
        for payload in self.heartbeat_payloads():
            response = await self.client.heartbeat(payload)
            if response.status >= 300:
                log.warning("heartbeat refused", extra={"status": response.status})
        self._last_heartbeat = time.monotonic()

    # ---- the loop ------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        stale_reported = False
        while not stop.is_set():
            try:
                await self.sync_once()
                await self.loader.retry_failed_canaries()
                SYNCS.labels("ok").inc()
                failures, stale_reported = 0, False
            except Exception as exc:
                SYNCS.labels("error").inc()
                failures += 1
                expected = isinstance(exc, BrokerUnavailableError | SyncError | ValueError)
                log.warning(
                    "sync failed" if expected else "sync failed unexpectedly",
                    extra={"error": f"{type(exc).__name__}: {str(exc)[:200]}"},
                )
                if self.state.loaded and self.state.is_stale() and not stale_reported:
                    stale_reported = True
                    for tenant_id in self.state.tenants:
                        self.loader.sink.emit(tenant_id, proxy_event("CONFIG_STALE", tenant_id))
            if time.monotonic() - self._last_heartbeat >= self.heartbeat_interval_s:
                try:
                    await self.send_heartbeat()
                except Exception as exc:
                    self._last_heartbeat = time.monotonic()
                    log.warning("heartbeat failed", extra={"error": type(exc).__name__})
            await _sleep_or_stop(stop, self._delay(failures))

    def _delay(self, failures: int) -> float:
        base = (
            self.interval_s
            if failures == 0
            else min(self.interval_s * 2 ** min(failures, 8), _MAX_BACKOFF_S)
        )
        return base * _JITTER.uniform(0.8, 1.2)  # jitter, not crypto (PR-11)


async def _sleep_or_stop(stop: asyncio.Event, delay: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), delay)


def _json_object(value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SyncError("response is not a JSON object")
    return value


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _rfc3339(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
