"""A tiny scripted HTTP/1.1 server on 127.0.0.1 for transport behaviour the proxy cannot produce.

Each request pops the next step: ``("json", status, body)``, ``("chunked", status, body)``,
``("sleep", seconds)`` then a normal answer, or ``("reset",)`` to drop the connection unanswered.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: ScriptedServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.requests.append((self.path, dict(self.headers), json.loads(body or b"null")))
        step = self.server.next_step()
        if step[0] == "sleep":
            time.sleep(step[1])
            step = (
                "json",
                200,
                {"dek": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "edek": "E"},
            )
        if step[0] == "reset":
            # SO_LINGER 0: close with RST, as a crashed or overloaded peer would.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        kind, status, payload = step
        if kind == "empty":  # 204: headers only, no Content-Length, no body
            self.send_response(status)
            self.end_headers()
            return
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if kind == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(data), 7):
                piece = data[i : i + 7]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)


class ScriptedServer(ThreadingHTTPServer):
    """Serves a script of answers; records requests and accepted connections."""

    daemon_threads = True

    def __init__(self, steps: list[tuple[Any, ...]], default: tuple[Any, ...]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.steps = list(steps)
        self.default = default
        self.requests: list[tuple[str, dict[str, str], Any]] = []
        self.connections = 0
        self._lock = threading.Lock()

    def next_step(self) -> tuple[Any, ...]:
        with self._lock:
            return self.steps.pop(0) if self.steps else self.default

    def get_request(self) -> tuple[socket.socket, Any]:
        self.connections += 1
        return super().get_request()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> ScriptedServer:
        threading.Thread(target=self.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
