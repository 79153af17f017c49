"""Misbehaving TCP/HTTP endpoints on 127.0.0.1 for KMS failure tests (like Toxiproxy's
`reset_peer` and `timeout` toxics, and a KMS that answers with scripted AWS JSON errors)."""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Listener:
    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        self.sock.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self.on_connect(conn)

    def on_connect(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()
        for conn in self._held:
            conn.close()


class ResetPeer(_Listener):
    """Accepts each connection and resets it at once (RST): the KMS is unreachable."""

    def on_connect(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()


class BlackHole(_Listener):
    """Accepts connections and never answers: the KMS hangs (a read timeout)."""

    def on_connect(self, conn: socket.socket) -> None:
        self._held.append(conn)


@contextmanager
def reset_peer() -> Iterator[ResetPeer]:
    listener = ResetPeer()
    listener._thread.start()
    try:
        yield listener
    finally:
        listener.close()


@contextmanager
def black_hole() -> Iterator[BlackHole]:
    listener = BlackHole()
    listener._thread.start()
    try:
        yield listener
    finally:
        listener.close()


def closed_port() -> int:
    """A port nobody listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AwsErrorServer:
    """Answers every AWS call with one scripted error, as the service front ends do: for KMS
    (JSON 1.1) HTTP status + `{"__type": "<ErrorCode>", "message": ...}` + x-amzn-RequestId;
    for STS (`query=True`) the query protocol's `<ErrorResponse>` XML."""

    def __init__(
        self, status: int, error_type: str, message: str = "scripted", *, query: bool = False
    ) -> None:
        self.requests = 0
        content_type = "application/x-amz-json-1.1"
        body = json.dumps({"__type": error_type, "message": message}).encode()
        if query:  # STS speaks the AWS query protocol: XML errors
            content_type = "text/xml"
            body = (
                '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
                f"<Type>Sender</Type><Code>{error_type}</Code><Message>{message}</Message>"
                "</Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId>"
                "</ErrorResponse>"
            ).encode()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.requests += 1
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> AwsErrorServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
