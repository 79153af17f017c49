"""Run the API and health apps on uvicorn in one process, with graceful shutdown (PR-10)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

from tenant_security_proxy.runtime import Runtime

log = logging.getLogger("tenant_security_proxy")


class _Server(uvicorn.Server):
    # Signals are handled once for both servers by `serve`, not by each uvicorn server.
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind_socket(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets whose proto says TCP, and
    # without it every kept-alive response waits ~40 ms for Nagle/delayed-ACK.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _server(app: Any, *, http: str) -> _Server:
    config = uvicorn.Config(
        app,
        http=http,
        lifespan="off",
        access_log=False,
        log_config=None,
        log_level="warning",
        timeout_graceful_shutdown=30,
        server_header=False,
        date_header=False,
    )
    return _Server(config)


async def serve(
    runtime: Runtime,
    *,
    api_socket: socket.socket,
    health_socket: socket.socket,
    install_signals: bool = True,
    stop: asyncio.Event | None = None,
    http: str = "httptools",
) -> None:
    """Serve until SIGTERM/SIGINT (or `stop` is set): /ready turns 503 first, then drain."""
    stop = stop or asyncio.Event()
    api, health = _server(runtime.api, http=http), _server(runtime.health, http=http)
    loop = asyncio.get_running_loop()
    if install_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        loop.add_signal_handler(
            signal.SIGUSR1, lambda: asyncio.ensure_future(runtime.seal("SIGUSR1"))
        )
    await runtime.start()
    tasks = [
        asyncio.create_task(api.serve(sockets=[api_socket])),
        asyncio.create_task(health.serve(sockets=[health_socket])),
    ]
    await stop.wait()
    runtime.shutting_down = True  # /ready answers 503 so load balancers stop sending traffic
    log.info("shutting down")
    api.should_exit = True
    await tasks[0]  # uvicorn finishes in-flight requests (up to 30 s)
    await runtime.stop()
    health.should_exit = True
    await tasks[1]
