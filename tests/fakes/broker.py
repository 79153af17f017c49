"""A small fake Configuration Broker speaking the broker side of docs/sync-protocol.md.

It verifies the proxy's request signatures (Ed25519, 60 s skew, nonce replay), serves bundles by
snapshot and by cursor with ETag/304, stores heartbeats and tenant secrets (first write wins).
`World` builds the signed statements and sealed configs that tests put into it, with real
opencmk_crypto keys. The real broker endpoints live in the Django apps; this fake only exists so
the proxy can be tested on its own.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import nacl.exceptions
import nacl.signing

from opencmk_crypto import OrgKeys, b64e, content_digest, seal_config, sign_statement

SKEW_S = 60
_ISSUED = "2026-01-01T00:00:00Z"


# ---- statement and bundle builders --------------------------------------------------------


@dataclass
class KmsSpec:
    """One KMS config of a tenant policy: its plaintext JSON and state."""

    config: dict[str, Any]
    state: str = "primary"
    config_id: int | None = None


@dataclass
class World:
    """Keys of one vendor, its proxy cluster and its tenants, and helpers to sign for them."""

    vendor_id: str = "vendor-1"
    cluster_id: str = "cluster-1"
    vendor: OrgKeys = field(default_factory=OrgKeys.generate)
    cluster: OrgKeys = field(default_factory=OrgKeys.generate)
    tenants: dict[str, OrgKeys] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1000))

    def env(self) -> dict[str, str]:
        return {
            "TSP_CLUSTER_ID": self.cluster_id,
            "TSP_CLUSTER_SIGNING_KEY": b64e(bytes(self.cluster.signing_key)),
            "TSP_CLUSTER_ENCRYPTION_KEY": b64e(bytes(self.cluster.encryption_key)),
            "TSP_VENDOR_ROOT_KEY": b64e(self.vendor.signing_public),
        }

    def next_config_id(self) -> int:
        return next(self._ids)

    def cluster_statement(
        self,
        *,
        cluster_id: str | None = None,
        keys: OrgKeys | None = None,
        signer: OrgKeys | None = None,
    ) -> dict[str, Any]:
        keys = keys or self.cluster
        payload = {
            "type": "proxy-cluster",
            "vendor_id": self.vendor_id,
            "issued_at": _ISSUED,
            "cluster_id": cluster_id or self.cluster_id,
            "name": "test cluster",
            "signing_key": b64e(keys.signing_public),
            "encryption_key": b64e(keys.encryption_public),
        }
        return sign_statement("proxy-cluster", payload, (signer or self.vendor).signing_key)

    def revocation(
        self, cluster_id: str | None = None, signer: OrgKeys | None = None
    ) -> dict[str, Any]:
        payload = {
            "type": "proxy-cluster-revocation",
            "vendor_id": self.vendor_id,
            "issued_at": _ISSUED,
            "cluster_id": cluster_id or self.cluster_id,
        }
        return sign_statement(
            "proxy-cluster-revocation", payload, (signer or self.vendor).signing_key
        )

    def tenant_keys(self, tenant_id: str) -> OrgKeys:
        return self.tenants.setdefault(tenant_id, OrgKeys.generate())

    def tenant_root(
        self,
        tenant_id: str,
        *,
        keys: OrgKeys | None = None,
        signer: OrgKeys | None = None,
        vendor_id: str | None = None,
    ) -> dict[str, Any]:
        keys = keys or self.tenant_keys(tenant_id)
        payload = {
            "type": "tenant-root",
            "vendor_id": vendor_id or self.vendor_id,
            "issued_at": _ISSUED,
            "tenant_id": tenant_id,
            "signing_key": b64e(keys.signing_public),
            "encryption_key": b64e(keys.encryption_public),
        }
        return sign_statement("tenant-root", payload, (signer or self.vendor).signing_key)

    def bundle(
        self,
        tenant_id: str,
        version: int,
        kms: Iterable[KmsSpec],
        *,
        leasing: bool = False,
        max_age_s: float = 3600,
        clusters: list[str] | None = None,
        logging_config: dict[str, Any] | None = None,
        signer: OrgKeys | None = None,
        policy_tenant_id: str | None = None,
        seal_tenant_id: str | None = None,
        reuse: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A complete, valid tenant bundle (the keyword arguments exist to forge invalid ones)."""
        recipients = [self.tenant_keys(tenant_id).encryption_public, self.cluster.encryption_public]
        # `reuse`: an earlier bundle whose sealed blobs stay (a policy change without new content)
        previous = {b["config_id"]: b for b in (reuse or {}).get("sealed_configs", [])}
        entries, sealed = [], []
        for spec in kms:
            spec.config_id = spec.config_id or self.next_config_id()
            blob = previous.get(spec.config_id) or seal_config(
                kind="kms",
                tenant_id=seal_tenant_id or tenant_id,
                config_id=spec.config_id,
                plaintext=json.dumps(spec.config).encode(),
                recipients=recipients,
            )
            sealed.append(blob)
            entries.append(
                {
                    "config_id": spec.config_id,
                    "provider": spec.config["provider"],
                    "state": spec.state,
                    "content_digest": content_digest(blob),
                }
            )
        logging_entry = None
        if logging_config is not None:
            cid = self.next_config_id()
            blob = seal_config(
                kind="logging",
                tenant_id=tenant_id,
                config_id=cid,
                plaintext=json.dumps(logging_config).encode(),
                recipients=recipients,
            )
            sealed.append(blob)
            logging_entry = {"config_id": cid, "content_digest": content_digest(blob)}
        payload = {
            "type": "tenant-policy",
            "vendor_id": self.vendor_id,
            "issued_at": _ISSUED,
            "tenant_id": policy_tenant_id or tenant_id,
            "version": version,
            "kms_configs": entries,
            "logging": logging_entry,
            "leasing": {"enabled": leasing, "max_age_s": max_age_s},
            "clusters": clusters if clusters is not None else [self.cluster_id],
        }
        policy = sign_statement(
            "tenant-policy", payload, (signer or self.tenant_keys(tenant_id)).signing_key
        )
        return {
            "tenant_id": tenant_id,
            "tenant_root": self.tenant_root(tenant_id),
            "policy": policy,
            "sealed_configs": sealed,
        }


# ---- the HTTP side ------------------------------------------------------------------------


class FakeBroker:
    """Thread-safe store plus an HTTP server on 127.0.0.1 (port 0 unless given)."""

    def __init__(self, world: World, *, port: int = 0, tls: ssl.SSLContext | None = None) -> None:
        self.world = world
        self.lock = threading.Lock()
        self.clusters: list[dict[str, Any]] = [world.cluster_statement()]
        self.revocations: list[dict[str, Any]] = []
        self.tenants: dict[str, tuple[int, dict[str, Any]]] = {}  # id -> (seq, bundle)
        self.deleted: dict[str, int] = {}  # id -> seq
        self.seq = 0
        self.secrets: dict[str, list[dict[str, Any]]] = {}
        self._secret_ids = itertools.count(1)
        self.heartbeats: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        self.nonces: dict[str, float] = {}
        self.unreachable = False  # drop connections without answering
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.scheme = "http"
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.server.daemon_threads = True
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeBroker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- store ----------------------------------------------------------------------------

    def put_bundle(self, bundle: dict[str, Any]) -> None:
        with self.lock:
            self.seq += 1
            self.tenants[bundle["tenant_id"]] = (self.seq, bundle)
            self.deleted.pop(bundle["tenant_id"], None)

    def delete_tenant(self, tenant_id: str) -> None:
        with self.lock:
            self.seq += 1
            self.tenants.pop(tenant_id, None)
            self.deleted[tenant_id] = self.seq

    def revoke_cluster(self, cluster_id: str | None = None) -> None:
        with self.lock:
            self.seq += 1
            self.revocations.append(self.world.revocation(cluster_id))

    # -- signature check (docs/sync-protocol.md §1) ------------------------------------

    def cluster_key(self, cluster_id: str) -> bytes | None:
        revoked = {
            json.loads(base64.b64decode(r["payload"]))["cluster_id"] for r in self.revocations
        }
        if cluster_id in revoked:
            return None
        for statement in self.clusters:
            payload = json.loads(base64.b64decode(statement["payload"]))
            if payload["cluster_id"] == cluster_id:
                return base64.b64decode(payload["signing_key"])
        return None

    def check_signature(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> str | None:
        """None if the request is authentic, else the error reason."""
        cluster_id = headers.get("X-OpenCMK-Cluster", "")
        timestamp = headers.get("X-OpenCMK-Timestamp", "")
        nonce = headers.get("X-OpenCMK-Nonce", "")
        key = self.cluster_key(cluster_id)
        if key is None:
            return "unknown_cluster"
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > SKEW_S:
            return "stale_signature"
        message = "\n".join(
            [
                "OpenCMK/1/proxy-request",
                method,
                path,
                cluster_id,
                timestamp,
                nonce,
                hashlib.sha256(body).hexdigest(),
            ]
        ).encode()
        try:
            signature = base64.b64decode(headers.get("X-OpenCMK-Signature", ""), validate=True)
            nacl.signing.VerifyKey(key).verify(message, signature)
        except (nacl.exceptions.BadSignatureError, ValueError):
            return "bad_signature"
        now = time.time()
        with self.lock:
            self.nonces = {n: t for n, t in self.nonces.items() if now - t < 2 * SKEW_S}
            if len(nonce) != 32 or nonce in self.nonces:
                return "replayed_request"
            self.nonces[nonce] = now
        return None

    # -- endpoints ------------------------------------------------------------------------

    def bundles(
        self, query: Mapping[str, str], if_none_match: str | None
    ) -> tuple[int, dict[str, str], Any]:
        limit = max(1, min(int(query.get("limit", "500")), 1000))
        cursor = query.get("cursor")
        with self.lock:
            if cursor is None or cursor.startswith("s:"):
                return self._snapshot_page(cursor, limit)
            if not cursor.startswith("c:"):
                return 410, {}, {"error": "cursor_expired"}
            since = int(cursor[2:])
            etag = f'"c:{self.seq}"'
            if if_none_match == etag and since == self.seq:
                return 304, {"ETag": etag}, None
            changed = sorted((s, t) for t, (s, _) in self.tenants.items() if s > since)
            page = [self.tenants[t][1] for _, t in changed[:limit]]
            has_more = len(changed) > limit
            next_seq = changed[limit - 1][0] if has_more else self.seq
            deleted = [t for t, s in self.deleted.items() if s > since] if not has_more else []
            return (
                200,
                {"ETag": f'"c:{next_seq}"'},
                self._page("changes", page, deleted, f"c:{next_seq}", has_more),
            )

    def _snapshot_page(self, cursor: str | None, limit: int) -> tuple[int, dict[str, str], Any]:
        if cursor is None:
            start_seq, after = self.seq, ""
        else:
            _, seq_text, after = cursor.split(":", 2)
            start_seq = int(seq_text)
        ids = sorted(t for t in self.tenants if t > after)
        page, has_more = ids[:limit], len(ids) > limit
        next_cursor = f"s:{start_seq}:{page[-1]}" if has_more else f"c:{start_seq}"
        bundles = [self.tenants[t][1] for t in page]
        return (
            200,
            {"ETag": f'"{next_cursor}"'},
            self._page("snapshot", bundles, [], next_cursor, has_more),
        )

    def _page(
        self, kind: str, tenants: list[Any], deleted: list[str], cursor: str, has_more: bool
    ) -> dict[str, Any]:
        return {
            "kind": kind,
            "vendor_id": self.world.vendor_id,
            "clusters": list(self.clusters),
            "revocations": list(self.revocations),
            "tenants": tenants,
            "deleted_tenants": deleted,
            "next_cursor": cursor,
            "has_more": has_more,
        }

    def list_secrets(self, tenant_id: str) -> tuple[int, Any]:
        with self.lock:
            return 200, {"secrets": list(self.secrets.get(tenant_id, []))}

    def create_secret(self, tenant_id: str, body: Mapping[str, Any]) -> tuple[int, Any]:
        with self.lock:
            records = self.secrets.setdefault(tenant_id, [])
            for record in records:
                same = (record["secret_path"], record["secret_type"]) == (
                    body["secret_path"],
                    body["secret_type"],
                )
                if same and record["status"] == "current":
                    return 409, {"secret": record}
            record = {
                "tenant_secret_id": next(self._secret_ids),
                "secret_path": body["secret_path"],
                "secret_type": body["secret_type"],
                "kms_config_id": body["kms_config_id"],
                "encrypted_secret": body["encrypted_secret"],
                "status": "current",
                "created_at": _ISSUED,
            }
            records.append(record)
            return 201, {"secret": record}


def _handler(broker: FakeBroker) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _reply(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
            raw = b"" if body is None or status in (204, 304) else json.dumps(body).encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
            broker.requests.append((self.command, self.path, status))

        def _dispatch(self) -> None:
            if broker.unreachable:
                self.close_connection = True
                self.connection.close()
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            error = broker.check_signature(self.command, self.path, self.headers, body)
            if error is not None:
                self._reply(401, {"error": error, "detail": "request signature refused"})
                return
            split = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(split.query))
            parts = split.path.split("/")
            if self.command == "GET" and split.path == "/api/v1/proxy/bundles":
                status, headers, payload = broker.bundles(query, self.headers.get("If-None-Match"))
                self._reply(status, payload, headers)
            elif self.command == "POST" and split.path == "/api/v1/proxy/heartbeat":
                broker.heartbeats.append(json.loads(body))
                self._reply(204, None)
            elif (
                len(parts) == 7
                and parts[1:5] == ["api", "v1", "proxy", "tenants"]
                and parts[6] == "secrets"
            ):
                tenant_id = urllib.parse.unquote(parts[5])
                if self.command == "GET":
                    self._reply(*broker.list_secrets(tenant_id))
                else:
                    self._reply(*broker.create_secret(tenant_id, json.loads(body)))
            else:
                self._reply(404, {"error": "not_found"})

        do_GET = _dispatch
        do_POST = _dispatch

    return Handler
