"""Wires settings, state, sync, leasing, events and the two ASGI apps into one process."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Mapping
from typing import Any

import nacl.public
import nacl.signing

from tenant_security_proxy.api import ProxyApi
from tenant_security_proxy.broker_client import BrokerClient
from tenant_security_proxy.cert_expiry import CERTS
from tenant_security_proxy.config import Settings
from tenant_security_proxy.derive import SecretStore
from tenant_security_proxy.eventlog import proxy_event
from tenant_security_proxy.health import HealthApp
from tenant_security_proxy.keyops import KeyService
from tenant_security_proxy.leasing import LeasedKey, LeaseManager
from tenant_security_proxy.loader import Loader
from tenant_security_proxy.state import KmsClientProtocol, KmsFactory, ProxyState
from tenant_security_proxy.sync import Syncer
from tenant_security_proxy.verify import ClusterIdentity

log = logging.getLogger("tenant_security_proxy")


def default_kms_factory(timeout_s: float) -> KmsFactory:
    def build(config: Mapping[str, Any], tenant_id: str, config_id: int) -> KmsClientProtocol:
        from tenant_security_proxy.kms import build_kms  # imported lazily: heavy provider SDKs

        return build_kms(config, tenant_id=tenant_id, config_id=config_id, timeout_s=timeout_s)

    return build


class Runtime:
    def __init__(
        self,
        settings: Settings,
        *,
        kms_factory: KmsFactory | None = None,
        hub: Any = None,
        page_limit: int = 500,
    ) -> None:
        from tenant_security_proxy.events import EventHub, validate_client_event
        from tenant_security_proxy.events.kms_fields import KmsEnricher

        self.settings = settings
        signing = nacl.signing.SigningKey(settings.signing_seed())
        self.identity = ClusterIdentity(
            settings.cluster_id,
            bytes(signing.verify_key),
            nacl.public.PrivateKey(settings.encryption_secret()),
        )
        self.state = ProxyState(max_staleness_s=settings.max_staleness_s)
        self.hub = hub if hub is not None else EventHub(stdout=sys.stdout)
        if isinstance(self.hub, EventHub):
            self.hub.enricher = KmsEnricher(self.state)
        self.leases = LeaseManager(on_created=self._leased_key_created)
        self.keys = KeyService(self.leases)
        CERTS.watch("broker_ca", settings.broker_ca_file)
        self.client = BrokerClient(
            settings.broker_url,
            cluster_id=settings.cluster_id,
            signing_key=signing,
            ca_file=settings.broker_ca_file,
        )
        self.loader = Loader(
            state=self.state,
            leases=self.leases,
            sink=self.hub,
            kms_factory=kms_factory or default_kms_factory(settings.kms_timeout_s),
            configure_logging=self._configure_logging,
            remove_logging=self.hub.remove_tenant,
        )
        self.syncer = Syncer(
            client=self.client,
            state=self.state,
            loader=self.loader,
            me=self.identity,
            vendor_root=settings.vendor_root_key,
            interval_s=settings.sync_interval_s,
            heartbeat_interval_s=settings.heartbeat_interval_s,
            page_limit=page_limit,
            event_stats=self.hub.stats,
        )
        self.secrets = SecretStore(self.client, self.keys)
        api_keys = [k.reveal() for k in settings.api_keys]
        self.api = ProxyApi(
            api_keys=api_keys,
            state=self.state,
            keys=self.keys,
            sink=self.hub,
            derive=self.secrets.derive,
            validate_event=validate_client_event,
        )
        self.health = HealthApp(self, api_keys)
        self.shutting_down = False
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def _leased_key_created(self, tenant_id: str, lk: LeasedKey) -> None:
        self.hub.emit(
            tenant_id,
            proxy_event(
                "LEASED_KEY_CREATED",
                tenant_id,
                details={"kms_config_id": lk.config_id, "leased_key_id": lk.key_id},
            ),
        )

    def _configure_logging(self, tenant_id: str, config: Mapping[str, Any] | None) -> None:
        try:
            self.hub.configure_tenant(tenant_id, config)
        except Exception as exc:
            log.warning("logging config rejected", extra={"tenant_id": tenant_id})
            self.hub.emit(
                tenant_id,
                proxy_event(
                    "LOGGING_CONFIG_REJECTED", tenant_id, details={"error": type(exc).__name__}
                ),
            )

    async def start(self) -> None:
        await self.hub.start()
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self.syncer.run(self._stop))

    async def stop(self) -> None:
        self.shutting_down = True
        self._stop.set()
        if self._task is not None:
            await self._task
        await self.loader.close_all()
        await self.hub.stop()

    async def seal(self, reason: str) -> None:
        self.state.sealed = True
        for tenant_id in list(self.state.tenants):
            self.hub.emit(
                tenant_id, proxy_event("PROXY_SEALED", tenant_id, details={"reason": reason})
            )
            await self.loader.remove(tenant_id, "sealed")
        self._stop.set()  # no further syncs: recovery is a restart with a fresh fetch

    def health_details(self) -> dict[str, Any]:
        age = self.state.config_age_s()
        return {
            "tenants": len(self.state.tenants),
            "rejected_tenants": len(self.state.rejections),
            "loaded": self.state.loaded,
            "config_age_s": None if age is None else round(age, 3),
            "max_staleness_s": self.state.max_staleness_s,
            "sealed": self.state.sealed,
            "canaries_pending": sum(
                c.canary == "pending"
                for t in self.state.tenants.values()
                for c in t.configs.values()
            ),
            "revoked": self.state.revoked,
        }
