"""Local receivers for every logging sink, checking each provider's real wire format.

Each receiver runs in a thread on 127.0.0.1 (port 0, or a port the test picks), over TLS with a
trustme CA where the sink requires TLS. It records what it accepted in `events` and every wire-
format deviation in `violations` (answered with an error status, as the real service would); a
test asserts `violations == []`. `fail_next(n, status)` makes the next n requests fail.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import gzip
import hashlib
import hmac
import json
import re
import socket
import socketserver
import ssl
import threading
import time
import urllib.parse
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import trustme
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


class Tls:
    """A throwaway CA and a server certificate for 127.0.0.1/localhost."""

    def __init__(self) -> None:
        self.ca = trustme.CA()
        self._cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self.ca_pem = self.ca.cert_pem.bytes().decode()

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._cert.configure_cert(ctx)
        return ctx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class WireViolation(Exception):
    def __init__(self, status: int, problem: str, body: Any = None) -> None:
        super().__init__(problem)
        self.status, self.problem, self.body = status, problem, body


class Receiver:
    """Shared recording, failure injection and thread-server lifecycle."""

    def __init__(self, tls: Tls | None) -> None:
        self.tls = tls
        self.events: list[Any] = []
        self.requests: list[dict[str, Any]] = []
        self.violations: list[str] = []
        self._fail: deque[int] = deque()
        self.lock = threading.Lock()
        self._server: socketserver.BaseServer | None = None
        self.port = 0

    def fail_next(self, count: int, status: int = 503) -> None:
        with self.lock:
            self._fail.extend([status] * count)

    def _take_failure(self) -> int | None:
        with self.lock:
            return self._fail.popleft() if self._fail else None

    def start(self, port: int = 0) -> Receiver:
        server = self._make_server(port)
        self._server = server
        self.port = int(server.server_address[1])
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _make_server(self, port: int) -> socketserver.BaseServer:
        raise NotImplementedError


# --------------------------------------------------------------------------- HTTP receivers


class HttpReceiver(Receiver):
    def __init__(self, tls: Tls | None) -> None:
        super().__init__(tls)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
        raise NotImplementedError

    def dispatch(self, method: str, path: str, headers: dict[str, str], body: bytes):
        with self.lock:
            self.requests.append({"method": method, "path": path, "headers": headers})
        failure = self._take_failure()
        if failure is not None:
            return failure, {"error": "injected failure"}
        try:
            return self.handle(method, path, headers, body)
        except WireViolation as exc:
            with self.lock:
                self.violations.append(exc.problem)
            return exc.status, exc.body or {"error": exc.problem}

    def _make_server(self, port: int) -> socketserver.BaseServer:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                if self.headers.get("Transfer-Encoding"):
                    receiver.violations.append("chunked body; expected Content-Length")
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, payload = receiver.dispatch("POST", self.path, headers, body)
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_PUT = do_POST

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        if self.tls:
            server.socket = self.tls.server_context().wrap_socket(
                server.socket, server_side=True, do_handshake_on_connect=False
            )
        return server


def _expect(condition: bool, problem: str, status: int = 400) -> None:
    if not condition:
        raise WireViolation(status, problem)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise WireViolation(400, f"body is not JSON: {exc}") from exc


RFC3339_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")


class SplunkHecReceiver(HttpReceiver):
    """HEC: POST /services/collector/event, `Authorization: Splunk <token>`, JSON objects."""

    ALLOWED = {"time", "host", "source", "sourcetype", "index", "event", "fields"}

    def __init__(self, tls: Tls, token: str) -> None:
        super().__init__(tls)
        self.token = token
        self.metadata: list[dict[str, Any]] = []

    def handle(self, method, path, headers, body):
        _expect(method == "POST" and path == "/services/collector/event", f"path {path}", 404)
        auth = headers.get("authorization")
        if auth is None:
            raise WireViolation(401, "no Authorization", {"text": "Token is required", "code": 2})
        if auth != f"Splunk {self.token}":
            raise WireViolation(403, "bad HEC token", {"text": "Invalid token", "code": 4})
        text, decoder, objects, index = body.decode(), json.JSONDecoder(), [], 0
        while index < len(text):
            if objects:
                _expect(text[index] == "\n", "HEC events not newline-separated")
                index += 1
            try:
                obj, index = decoder.raw_decode(text, index)
            except ValueError as exc:
                raise WireViolation(
                    400, f"bad HEC JSON: {exc}", {"text": "Invalid data format", "code": 6}
                ) from exc
            _expect(isinstance(obj, dict) and isinstance(obj.get("event"), dict), "no event object")
            _expect(not set(obj) - self.ALLOWED, f"unknown HEC keys {set(obj) - self.ALLOWED}")
            _expect(isinstance(obj.get("time"), int | float), "time must be epoch seconds")
            objects.append(obj)
        _expect(bool(objects), "empty batch")
        with self.lock:
            self.events.extend(o["event"] for o in objects)
            self.metadata.extend({k: v for k, v in o.items() if k != "event"} for o in objects)
        return 200, {"text": "Success", "code": 0}


class GcpLoggingReceiver(HttpReceiver):
    """OAuth2 JWT-bearer token endpoint (POST /token) and Logging v2 `entries:write`."""

    def __init__(self, tls: Tls, *, project_id: str, log_id: str, client_email: str) -> None:
        super().__init__(tls)
        self.project_id, self.log_id, self.client_email = project_id, log_id, client_email
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.tokens: set[str] = set()
        self.insert_ids: set[str] = set()
        self.entries: list[dict[str, Any]] = []

    @property
    def private_key_pem(self) -> str:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    def revoke_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def handle(self, method, path, headers, body):
        if path == "/token":
            return self._token(headers, body)
        _expect(path == "/v2/entries:write", f"path {path}", 404)
        auth = headers.get("authorization", "")
        with self.lock:
            valid = auth.startswith("Bearer ") and auth[7:] in self.tokens
        _expect(valid, "missing or unknown bearer token", 401)
        _expect(headers.get("content-type") == "application/json", "content type")
        doc = _json(body)
        quoted = urllib.parse.quote(self.log_id, safe="")
        _expect(doc.get("logName") == f"projects/{self.project_id}/logs/{quoted}", "logName")
        _expect(doc.get("resource", {}).get("type") == "global", "resource type")
        entries = doc.get("entries")
        _expect(isinstance(entries, list) and bool(entries), "entries")
        for entry in entries:
            _expect(isinstance(entry.get("jsonPayload"), dict), "jsonPayload")
            _expect(bool(RFC3339_RE.fullmatch(str(entry.get("timestamp")))), "timestamp")
            _expect(entry.get("severity") in ("NOTICE", "WARNING", "INFO"), "severity")
            _expect(isinstance(entry.get("insertId"), str), "insertId")
        with self.lock:
            for entry in entries:
                if entry["insertId"] not in self.insert_ids:  # Cloud Logging deduplicates
                    self.insert_ids.add(entry["insertId"])
                    self.entries.append(entry)
                    self.events.append(entry["jsonPayload"])
        return 200, {}

    def _token(self, headers, body):
        _expect(headers.get("content-type") == "application/x-www-form-urlencoded", "token form")
        form = dict(urllib.parse.parse_qsl(body.decode()))
        _expect(form.get("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer", "grant")
        parts = form.get("assertion", "").split(".")
        _expect(len(parts) == 3, "assertion is not a JWT")
        pad = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))  # noqa: E731
        header, claims = json.loads(pad(parts[0])), json.loads(pad(parts[1]))
        _expect(header.get("alg") == "RS256", "JWT alg")
        try:
            self.private_key.public_key().verify(
                pad(parts[2]),
                f"{parts[0]}.{parts[1]}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except Exception as exc:
            raise WireViolation(400, "JWT signature invalid", {"error": "invalid_grant"}) from exc
        now = time.time()
        _expect(claims.get("iss") == self.client_email, "JWT iss")
        _expect(claims.get("aud") == f"{self.url}/token", "JWT aud")
        _expect("https://www.googleapis.com/auth/logging.write" in claims.get("scope", ""), "scope")
        _expect(claims["iat"] - 300 <= now < claims["exp"] <= claims["iat"] + 3600, "JWT times")
        token = f"ya29.fake-{len(self.tokens)}-{int(now * 1000)}"
        with self.lock:
            self.tokens.add(token)
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}


class ElasticReceiver(HttpReceiver):
    """`POST /_bulk`, NDJSON `create` actions; `_id` conflicts answered 409 per item."""

    def __init__(self, tls: Tls, *, index: str, auth: str) -> None:
        super().__init__(tls)
        self.index, self.auth = index, auth
        self.docs: dict[str, dict[str, Any]] = {}
        self.reject_actions: set[str] = set()

    def handle(self, method, path, headers, body):
        _expect(method == "POST" and path == "/_bulk", f"path {path}", 404)
        _expect(headers.get("authorization") == self.auth, "authorization", 401)
        _expect(headers.get("content-type") == "application/x-ndjson", "content type")
        text = body.decode()
        _expect(text.endswith("\n"), "bulk body must end with a newline")
        lines = text[:-1].split("\n")
        _expect(len(lines) % 2 == 0 and bool(lines), "action/source lines must pair")
        items = []
        for action_line, source_line in zip(lines[::2], lines[1::2], strict=True):
            action, source = _json(action_line.encode()), _json(source_line.encode())
            _expect(list(action) == ["create"], "action must be create")
            meta = action["create"]
            _expect(meta.get("_index") == self.index and bool(meta.get("_id")), "action meta")
            _expect(bool(RFC3339_RE.fullmatch(str(source.get("@timestamp")))), "@timestamp")
            items.append({"create": self._index_doc(meta["_id"], source)})
        errors = any(i["create"]["status"] >= 300 for i in items)
        return 200, {"took": 1, "errors": errors, "items": items}

    def _index_doc(self, doc_id: str, source: dict[str, Any]) -> dict[str, Any]:
        base = {"_index": self.index, "_id": doc_id}
        with self.lock:
            if source.get("opencmk", {}).get("event") in self.reject_actions:
                return {**base, "status": 400, "error": {"type": "mapper_parsing_exception"}}
            if doc_id in self.docs:
                return {
                    **base,
                    "status": 409,
                    "error": {"type": "version_conflict_engine_exception"},
                }
            self.docs[doc_id] = source
            self.events.append(source["opencmk"])
        return {**base, "status": 201, "result": "created"}


class DatadogReceiver(HttpReceiver):
    """Logs intake v2: `POST /api/v2/logs`, `DD-API-KEY`, JSON array, gzip optional."""

    def __init__(self, tls: Tls, api_key: str) -> None:
        super().__init__(tls)
        self.api_key = api_key
        self.logs: list[dict[str, Any]] = []
        self.encodings: list[str | None] = []

    def handle(self, method, path, headers, body):
        _expect(method == "POST" and path == "/api/v2/logs", f"path {path}", 404)
        if headers.get("dd-api-key") != self.api_key:
            raise WireViolation(403, "DD-API-KEY", {"errors": ["Forbidden"]})
        _expect(headers.get("content-type") == "application/json", "content type")
        encoding = headers.get("content-encoding")
        if encoding == "gzip":
            body = gzip.decompress(body)
        else:
            _expect(encoding is None, f"content encoding {encoding}")
        _expect(len(body) <= 5 * 1024 * 1024, "payload over 5 MB", 413)
        logs = _json(body)
        _expect(isinstance(logs, list) and 0 < len(logs) <= 1000, "array of 1..1000 logs")
        for log in logs:
            _expect(isinstance(log.get("message"), str), "message must be a string")
            for key in ("ddsource", "service", "hostname", "ddtags"):
                _expect(isinstance(log.get(key), str), f"{key} must be a string")
        with self.lock:
            self.encodings.append(encoding)
            self.logs.extend(logs)
            self.events.extend(json.loads(log["message"]) for log in logs)
        return 202, {}


class WebhookReceiver(HttpReceiver):
    """HMAC-SHA256 over `timestamp + "." + body`; replay window of five minutes."""

    def __init__(self, tls: Tls, secret: str, path: str = "/hooks/opencmk") -> None:
        super().__init__(tls)
        self.secret, self.path = secret.encode(), path
        self.batches: dict[str, dict[str, Any]] = {}

    def handle(self, method, path, headers, body):
        _expect(method == "POST" and path == self.path, f"path {path}", 404)
        _expect(headers.get("content-type") == "application/json", "content type")
        timestamp = headers.get("x-opencmk-timestamp", "")
        _expect(timestamp.isdigit() and abs(time.time() - int(timestamp)) <= 300, "timestamp", 401)
        expected = hmac.new(self.secret, timestamp.encode() + b"." + body, hashlib.sha256)
        given = headers.get("x-opencmk-signature", "")
        _expect(hmac.compare_digest(given, "v1=" + expected.hexdigest()), "signature", 401)
        doc = _json(body)
        _expect(isinstance(doc.get("events"), list), "events array")
        _expect(doc.get("batch_id") == headers.get("x-opencmk-batch"), "batch header")
        with self.lock:
            if doc["batch_id"] not in self.batches:
                self.batches[doc["batch_id"]] = doc
                self.events.extend(doc["events"])
        return 200, {"ok": True}


# --------------------------------------------------------------------------- syslog


SYSLOG_HEADER_RE = re.compile(
    r"<(?P<pri>\d{1,3})>1 (?P<ts>-|\S+) (?P<host>[!-~]{1,255}) (?P<app>[!-~]{1,48}) "
    r"(?P<procid>[!-~]{1,128}) (?P<msgid>[!-~]{1,32}) "
)
_SD_NAME = r"[!#-<>-\\^-~]{1,32}"  # PRINTUSASCII except '=', ']', '"' and space
_SD_PARAM_RE = re.compile(rf' ({_SD_NAME})="((?:[^"\\\]]|\\["\\\]])*)"')
_SD_ID_RE = re.compile(rf"\[({_SD_NAME})")


def parse_rfc5424(message: bytes) -> dict[str, Any]:
    """Parse one RFC 5424 message strictly; raise ValueError on any deviation."""
    text = message.decode("utf-8")
    head = SYSLOG_HEADER_RE.match(text)
    if head is None or int(head["pri"]) > 191 or head["pri"] != str(int(head["pri"])):
        raise ValueError("bad RFC 5424 header")
    if head["ts"] != "-" and not RFC3339_RE.fullmatch(head["ts"]):
        raise ValueError("bad TIMESTAMP")
    dt.datetime.fromisoformat(head["ts"])
    rest, sd = text[head.end() :], {}
    if rest.startswith("-"):
        rest = rest[1:]
    else:
        while rest.startswith("["):
            m = _SD_ID_RE.match(rest)
            if m is None:
                raise ValueError("bad SD-ID")
            params, pos = {}, m.end()
            while (p := _SD_PARAM_RE.match(rest, pos)) is not None:
                params[p[1]] = re.sub(r"\\([\"\\\]])", r"\1", p[2])
                pos = p.end()
            if rest[pos : pos + 1] != "]":
                raise ValueError("unterminated SD-ELEMENT")
            sd[m[1]] = params
            rest = rest[pos + 1 :]
        if not sd:
            raise ValueError("missing STRUCTURED-DATA")
    if rest and not rest.startswith(" "):
        raise ValueError("no SP before MSG")
    msg = rest[1:]
    return {
        **head.groupdict(),
        "sd": sd,
        "bom": msg.startswith("\ufeff"),
        "msg": msg.lstrip("\ufeff"),
    }


class SyslogTlsReceiver(Receiver):
    """RFC 5425: TLS, octet-counting frames `MSG-LEN SP SYSLOG-MSG`."""

    def __init__(self, tls: Tls) -> None:
        super().__init__(tls)
        self.messages: list[dict[str, Any]] = []
        self._connections: list[socket.socket] = []

    def drop_connections(self) -> None:
        """Close every client connection, as a restarting syslog server would."""
        with self.lock:
            conns, self._connections = self._connections, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def _frames(self, stream: Any):
        while True:
            digits = b""
            while (ch := stream.read(1)) != b" ":
                if not ch:
                    if digits:
                        raise ValueError("connection closed inside a frame length")
                    return
                if not ch.isdigit() or len(digits) > 9:
                    raise ValueError("frame does not start with MSG-LEN SP (octet counting)")
                digits += ch
            if not digits or digits.startswith(b"0"):
                raise ValueError("bad MSG-LEN")
            frame = stream.read(int(digits))
            if len(frame) != int(digits):
                raise ValueError("frame shorter than its MSG-LEN")
            yield frame

    def _handle(self, conn: socket.socket) -> None:
        with self.lock:
            self._connections.append(conn)
        conn.settimeout(30)
        stream = conn.makefile("rb")
        try:
            for frame in self._frames(stream):
                parsed = parse_rfc5424(frame)
                with self.lock:
                    self.messages.append(parsed)
                    self.events.append(json.loads(parsed["msg"]))
        except (ValueError, UnicodeDecodeError) as exc:
            with self.lock:
                self.violations.append(str(exc))
        except OSError:
            pass

    def _make_server(self, port: int) -> socketserver.BaseServer:
        receiver = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                receiver._handle(self.request)

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        server = Server(("127.0.0.1", port), Handler)
        assert self.tls is not None
        # The handshake runs in the connection's own thread (on first read), never in accept():
        # a client that stalls or vanishes mid-handshake would otherwise block serve_forever and
        # with it the fixture's shutdown().
        server.socket = self.tls.server_context().wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
        return server
