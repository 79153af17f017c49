"""The IronCore-compatible HTTP API as a raw ASGI app (DESIGN.md §6.3).

No framework on purpose: the wrap/unwrap path is the product's hot loop and must stay close to a
raw ASGI JSON echo. Work that is not per request (route table, header lists, key bytes) is done
once in `ProxyApi.__init__`.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import Any

from tenant_security_proxy import __version__, errors
from tenant_security_proxy.asgi import (
    NO_CONTENT,
    Receive,
    Scope,
    Send,
    bad_request,
    custom_fields,
    icl_fields,
    lifespan,
    read_json,
    respond,
)
from tenant_security_proxy.edek import encode_edek_b64
from tenant_security_proxy.errors import ProxyError
from tenant_security_proxy.eventlog import proxy_event
from tenant_security_proxy.keyops import KeyService
from tenant_security_proxy.metrics import RequestStats
from tenant_security_proxy.state import EventSink, ProxyState

log = logging.getLogger("tenant_security_proxy.api")

Handler = Callable[[dict[str, Any]], Awaitable[Any]]

STATS = RequestStats()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class ProxyApi:
    """ASGI app; `derive` serves key/derive-with-secret-path, `validate_event` checks names."""

    def __init__(
        self,
        *,
        api_keys: list[str],
        state: ProxyState,
        keys: KeyService,
        sink: EventSink,
        derive: Callable[[Any, dict[str, Any]], Awaitable[dict[str, Any]]] | None = None,
        validate_event: Callable[[str], str] | None = None,
    ) -> None:
        self._keys = [b"cmk " + k.encode() for k in api_keys]
        self.state = state
        self.keys = keys
        self.sink = sink
        self._derive = derive
        self._validate_event = validate_event
        self._routes: dict[str, tuple[str, Handler]] = {
            "/api/1/document/wrap": ("wrap", self.wrap),
            "/api/1/document/batch-wrap": ("batch-wrap", self.batch_wrap),
            "/api/1/document/unwrap": ("unwrap", self.unwrap),
            "/api/1/document/batch-unwrap": ("batch-unwrap", self.batch_unwrap),
            "/api/1/document/rekey": ("rekey", self.rekey),
            "/api/1/key/derive-with-secret-path": ("derive", self.derive),
            "/api/1/event/security-event": ("security-event", self.security_event),
            "/api/1/document/report-operations": ("report-operations", self.report_operations),
        }

    # ---- ASGI plumbing -------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        route = self._routes.get(scope["path"])
        if route is None:
            await self._not_routed(scope, send)
            return
        if scope["method"] != "POST":
            await respond(send, 405, {"code": 100, "message": "Use POST."})
            return
        started = time.perf_counter()
        name, handler = route
        status, payload, tenant, code = await self._handle(scope, receive, name, handler)
        await respond(send, status, payload)
        # Only known tenants get their own label: random ids must not grow the metrics unboundedly.
        label = tenant if tenant in self.state.tenants else "_unknown"
        STATS.record(label, name, code, time.perf_counter() - started)

    async def _handle(
        self, scope: Scope, receive: Receive, route: str, handler: Handler
    ) -> tuple[int, Any, str, str]:
        tenant = ""
        body: dict[str, Any] = {}
        started = 0.0
        try:
            self._authorize(scope)
            body = await read_json(receive)
            raw_tenant = body.get("tenantId")
            tenant = raw_tenant if isinstance(raw_tenant, str) else ""
            started = perf_counter()
            result = await handler(body)
        except ProxyError as exc:
            self._failure_event(route, tenant, body, exc, started)
            return exc.http_status, exc.to_json(), tenant, str(exc.code)
        except Exception:
            log.exception("unhandled error in API handler")
            return 500, {"code": 100, "message": "Unknown request error occurred"}, "", "100"
        if result is NO_CONTENT:
            return 204, NO_CONTENT, tenant, "0"
        return 200, result, tenant, "0"

    def _authorize(self, scope: Scope) -> None:
        values = [v for k, v in scope["headers"] if k == b"authorization"]
        ok = False
        if len(values) == 1:  # a duplicated header is ambiguous: refuse it (P-05)
            for key in self._keys:  # compare with every key so timing says nothing about which
                ok = hmac.compare_digest(values[0], key) or ok
        if not ok:
            raise ProxyError(errors.UNAUTHORIZED_REQUEST)

    async def _not_routed(self, scope: Scope, send: Send) -> None:
        if scope["path"] == "/" and scope["method"] == "GET":
            await respond(
                send,
                200,
                {"service": "opencmk-tenant-security-proxy", "port": "api", "version": __version__},
            )
        else:
            await respond(send, 404, {"code": 100, "message": "Unknown route."})

    # ---- events --------------------------------------------------------------------------

    def _failure_event(
        self, route: str, tenant: str, body: dict[str, Any], exc: ProxyError, started: float
    ) -> None:
        """Refused key operations are security events too (e.g. use of a disabled config)."""
        name = _FAILURE_EVENTS.get(route)
        if name is None or tenant not in self.state.tenants:
            return  # unknown tenants get no sink: their requests are only counted in metrics
        try:
            icl, custom = icl_fields(body), custom_fields(body)
        except ProxyError:
            icl, custom = {}, {}
        details: dict[str, Any] = {
            "result": "failure",
            "error_code": exc.code,
            "latency_s": perf_counter() - started,
        }
        if exc.kms_config_id is not None:
            details["kms_config_id"] = exc.kms_config_id
        self._emit(name, tenant, icl, custom, details)

    def _event(self, name: str, tenant: str, body: dict[str, Any], **details: Any) -> None:
        self._emit(name, tenant, icl_fields(body), custom_fields(body), details)

    def _emit(
        self,
        name: str,
        tenant: str,
        icl: dict[str, str],
        custom: dict[str, str],
        details: dict[str, Any],
    ) -> None:
        # Raw facts only, once per request: the event hub's delivery task adds the event id and
        # the timestamp (of this moment, which the hub records at emit) and scrubs `details`
        # in batches, off the request path (events/model.finalize). Key-operation events carry
        # `result` and `latency_s` (two perf_counter calls); the delivery task derives the
        # other ACCEPTANCE L-12 fields from them (events/kms_fields.KmsEnricher).
        self.sink.emit(
            tenant,
            {
                "event": name,
                "tenant_id": tenant,
                "source": "proxy",
                "icl_fields": icl,
                "custom_fields": custom,
                "details": details,
            },
        )

    # ---- routes --------------------------------------------------------------------------

    async def wrap(self, body: dict[str, Any]) -> dict[str, str]:
        started = perf_counter()
        icl, custom = icl_fields(body), custom_fields(body)
        tenant = self.state.tenant(body.get("tenantId"))
        done = self.keys.wrap_b64_leased_now(tenant)
        dek, edek, config_id, leased = (
            done if done is not None else await self.keys.wrap_b64(tenant)
        )
        self._emit(
            "KMS_WRAP",
            tenant.tenant_id,
            icl,
            custom,
            {
                "kms_config_id": config_id,
                "leased": leased,
                "result": "success",
                "latency_s": perf_counter() - started,
            },
        )
        return {"dek": _b64(dek), "edek": edek}

    async def unwrap(self, body: dict[str, Any]) -> dict[str, str]:
        started = perf_counter()
        icl, custom = icl_fields(body), custom_fields(body)
        tenant = self.state.tenant(body.get("tenantId"))
        text = body.get("encryptedDocumentKey")
        done = self.keys.unwrap_leased_now(tenant, text)
        dek, edek = done if done is not None else await self.keys.unwrap(tenant, text)
        self._emit(
            "KMS_UNWRAP",
            tenant.tenant_id,
            icl,
            custom,
            {
                "kms_config_id": edek.kms_config_id,
                "leased": bool(edek.leased_key_id),
                "result": "success",
                "latency_s": perf_counter() - started,
            },
        )
        return {"dek": _b64(dek)}

    async def batch_wrap(self, body: dict[str, Any]) -> dict[str, Any]:
        started = perf_counter()
        icl_fields(body)
        ids = body.get("documentIds")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise bad_request("documentIds must be a list of strings")
        _check_batch(len(ids))
        tenant = self.state.tenant(body.get("tenantId"))
        results = await asyncio.gather(
            *(self.keys.wrap(tenant) for _ in ids), return_exceptions=True
        )
        return self._batch_answer(
            "KMS_WRAP", tenant.tenant_id, body, ids, results, started, _wrapped
        )

    async def batch_unwrap(self, body: dict[str, Any]) -> dict[str, Any]:
        started = perf_counter()
        icl_fields(body)
        edeks = body.get("edeks")
        if not isinstance(edeks, dict):
            raise bad_request("edeks must be an object")
        _check_batch(len(edeks))
        tenant = self.state.tenant(body.get("tenantId"))
        ids = list(edeks)
        results = await asyncio.gather(
            *(self.keys.unwrap(tenant, edeks[i]) for i in ids), return_exceptions=True
        )
        return self._batch_answer(
            "KMS_UNWRAP", tenant.tenant_id, body, ids, results, started, _unwrapped
        )

    def _batch_answer(
        self,
        event: str,
        tenant_id: str,
        body: dict[str, Any],
        ids: list[str],
        results: list[Any],
        started: float,
        render: Callable[[Any], dict[str, str]],
    ) -> dict[str, Any]:
        """Per-document keys and failures (IronCore's batch shape) plus one event for the batch."""
        keys, failures = {}, {}
        for doc_id, result in zip(ids, results, strict=True):
            if isinstance(result, ProxyError):
                failures[doc_id] = result.to_json()
            elif isinstance(result, BaseException):
                failures[doc_id] = {"code": 100, "message": "Unknown request error occurred"}
            else:
                keys[doc_id] = render(result)
        self._event(
            event,
            tenant_id,
            body,
            batch=len(ids),
            failed=len(failures),
            result="failure" if failures else "success",
            latency_s=perf_counter() - started,
        )
        return {"keys": keys, "failures": failures}

    async def rekey(self, body: dict[str, Any]) -> dict[str, str]:
        started = perf_counter()
        icl_fields(body)
        new_tenant_id = body.get("newTenantId")
        if not isinstance(new_tenant_id, str) or not new_tenant_id:
            raise bad_request("newTenantId is required")
        tenant = self.state.tenant(body.get("tenantId"))
        new_tenant = self.state.tenant(new_tenant_id)
        dek, old = await self.keys.unwrap(tenant, body.get("encryptedDocumentKey"))
        edek = await self.keys.wrap_dek(new_tenant, dek)
        latency_s = perf_counter() - started
        self._event(
            "KMS_REKEY",
            tenant.tenant_id,
            body,
            kms_config_id=old.kms_config_id,
            new_tenant_id=new_tenant_id,
            result="success",
            latency_s=latency_s,
        )
        if new_tenant_id != tenant.tenant_id:
            self._event(
                "KMS_REKEY",
                new_tenant_id,
                body,
                kms_config_id=edek.kms_config_id,
                from_tenant_id=tenant.tenant_id,
                result="success",
                latency_s=latency_s,
            )
        return {"dek": _b64(dek), "edek": encode_edek_b64(edek)}

    async def derive(self, body: dict[str, Any]) -> dict[str, Any]:
        started = perf_counter()
        icl_fields(body)
        tenant = self.state.tenant(body.get("tenantId"))
        paths = body.get("paths")
        if (
            isinstance(paths, dict)
            and sum(len(v) if isinstance(v, list) else 1 for v in paths.values()) > MAX_DERIVE_PATHS
        ):
            raise bad_request(f"at most {MAX_DERIVE_PATHS} derivation paths per request")
        if self._derive is None:
            raise ProxyError(errors.UNKNOWN_ERROR, "Key derivation is not available.")
        result = await self._derive(tenant, body)
        self._event(
            "KMS_DERIVE",
            tenant.tenant_id,
            body,
            secret_type=body.get("secretType"),
            paths=len(body.get("paths") or {}),
            result="success",
            latency_s=perf_counter() - started,
        )
        return result

    async def security_event(self, body: dict[str, Any]) -> None:
        fields = icl_fields(body)
        # Only tenants this proxy serves: random ids must not create per-tenant queues.
        tenant_id = self.state.tenant(body.get("tenantId")).tenant_id
        raw_icl = body["iclFields"]
        # TSCs put the event in iclFields.event, alloy at the top level: accept both.
        name = raw_icl.get("event") if raw_icl.get("event") is not None else body.get("event")
        if not isinstance(name, str):
            raise ProxyError(errors.SECURITY_EVENT_REJECTED, "event is required")
        if self._validate_event is not None:
            name = self._validate_event(name)
        timestamp = body.get("timestampMillis")
        if timestamp is not None and (
            not isinstance(timestamp, int) or isinstance(timestamp, bool)
        ):
            raise bad_request("timestampMillis must be an integer")
        event = proxy_event(
            name,
            tenant_id,
            icl_fields=fields,
            custom_fields=custom_fields(body),
            details={"timestamp_millis": timestamp or int(time.time() * 1000)},
        )
        event["source"] = "client"
        self.sink.emit(tenant_id, event)
        return None

    async def report_operations(self, body: dict[str, Any]) -> object:
        icl_fields(body)
        operations = body.get("operations")
        if not isinstance(operations, dict):
            raise bad_request("operations must be an object")
        tenant = self.state.tenant(body.get("tenantId"))
        wraps = unwraps = 0
        for counts in operations.values():
            if isinstance(counts, dict):
                wraps += _count(counts.get("wraps"))
                unwraps += _count(counts.get("unwraps"))
        self._event(
            "KMS_CACHED_KEY_OPERATIONS",
            tenant.tenant_id,
            body,
            edeks=len(operations),
            wraps=wraps,
            unwraps=unwraps,
        )
        return NO_CONTENT


_FAILURE_EVENTS = {
    "wrap": "KMS_WRAP",
    "batch-wrap": "KMS_WRAP",
    "unwrap": "KMS_UNWRAP",
    "batch-unwrap": "KMS_UNWRAP",
    "rekey": "KMS_REKEY",
    "derive": "KMS_DERIVE",
}
MAX_BATCH = 10_000
MAX_DERIVE_PATHS = 1_000


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _check_batch(size: int) -> None:
    if size > MAX_BATCH:
        raise bad_request(f"at most {MAX_BATCH} documents per batch")


def _wrapped(result: tuple[bytes, Any]) -> dict[str, str]:
    return {"dek": _b64(result[0]), "edek": encode_edek_b64(result[1])}


def _unwrapped(result: tuple[bytes, Any]) -> dict[str, str]:
    return {"dek": _b64(result[0])}
