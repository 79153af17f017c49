"""HTTP/1.1 keep-alive transport on asyncio streams, for :class:`AsyncTenantSecurityClient`.

Why not offload the blocking transport to a thread: every hop through ``asyncio.to_thread``
costs a thread hand-off in both directions and caps concurrency at the executor's size, while a
stream-based client keeps hundreds of requests in flight on one thread (bench/client_bench.py
measures both; docs/sdk.md has the figures). The proxy speaks plain HTTP/1.1 JSON with
``Content-Length`` or chunked bodies, so the protocol subset needed here is small.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from dataclasses import dataclass

from ._core import is_retryable_status
from ._exceptions import RequestTimeoutError, TransportError
from ._transport import KEEPALIVE_EXPIRY, Endpoint, RetryPolicy, Timeouts, _RetryableError

__all__ = ["AsyncTransport"]

_MAX_BODY = 256 * 1024 * 1024


class _ProtocolError(Exception):
    """The proxy's answer was not well-formed HTTP/1.1."""


@dataclass(slots=True)
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    since: float = 0.0

    def usable(self) -> bool:
        expired = time.monotonic() - self.since >= KEEPALIVE_EXPIRY
        return not (expired or self.reader.at_eof() or self.writer.is_closing())

    def close(self) -> None:
        self.writer.close()


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        line = await reader.readuntil(b"\r\n")
        size = int(line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass  # trailers, ignored
            return b"".join(parts)
        total += size
        if total > _MAX_BODY:
            raise _ProtocolError("response too large")
        parts.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise _ProtocolError("bad chunk framing")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Read one response; return (status, body, connection reusable)."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    version, status_text = head[0].split(" ", 2)[:2]
    headers = {}
    for line in head[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    reusable = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
    status = int(status_text)
    if status in (204, 304):  # RFC 9112 §6.3: never a body, whatever the headers say
        return status, b"", reusable
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif "content-length" in headers:
        length = int(headers["content-length"])
        if not 0 <= length <= _MAX_BODY:
            raise _ProtocolError("bad content length")
        body = await reader.readexactly(length)
    else:
        body = await reader.read(_MAX_BODY)
        reusable = False
    return status, body, reusable


class AsyncTransport:
    """A pool of keep-alive asyncio connections; use one instance per event loop."""

    def __init__(
        self,
        endpoint: Endpoint,
        headers: dict[str, str],
        *,
        timeouts: Timeouts,
        retry: RetryPolicy,
        pool_size: int = 10,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._endpoint = endpoint
        lines = [f"Host: {endpoint.host_header}"] + [f"{k}: {v}" for k, v in headers.items()]
        self._head = "\r\n".join(lines)
        self._timeouts = timeouts
        self._retry = retry
        self._pool_size = pool_size
        self._ssl = ssl_context or ssl.create_default_context()
        self._idle: list[_Conn] = []
        self._closed = False

    async def _open(self, timeout: float) -> _Conn:
        ep = self._endpoint
        tls = self._ssl if ep.scheme == "https" else None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    ep.host, ep.port, ssl=tls, server_hostname=ep.host if tls else None
                )
        except TimeoutError:
            raise _RetryableError(
                RequestTimeoutError("timed out connecting to the proxy")
            ) from None
        except OSError as exc:
            raise _RetryableError(TransportError(f"cannot connect to the proxy: {exc}")) from None
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Conn(reader, writer)

    async def _checkout(self, timeout: float) -> _Conn:
        if self._closed:
            raise TransportError("the client is closed")
        while self._idle:
            conn = self._idle.pop()
            if conn.usable():
                return conn
            conn.close()
        return await self._open(timeout)

    def _checkin(self, conn: _Conn) -> None:
        if self._closed or len(self._idle) >= self._pool_size:
            conn.close()
            return
        conn.since = time.monotonic()
        self._idle.append(conn)

    async def _attempt(self, request: bytes, remaining: float) -> tuple[int, bytes]:
        conn = await self._checkout(min(self._timeouts.connect, remaining))
        try:
            async with asyncio.timeout(min(self._timeouts.read, remaining)):
                conn.writer.write(request)
                await conn.writer.drain()
                status, body, reusable = await _read_response(conn.reader)
        except TimeoutError:
            conn.close()
            raise RequestTimeoutError("timed out waiting for the proxy") from None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as e:
            conn.close()
            error = TransportError(f"connection to the proxy failed: {type(e).__name__}")
            raise _RetryableError(error) from None
        except (_ProtocolError, BaseException):
            conn.close()
            raise
        if reusable:
            self._checkin(conn)
        else:
            conn.close()
        return status, body

    async def post(self, route: str, body: bytes, *, retry_safe: bool) -> tuple[int, bytes]:
        """POST ``body`` to ``route``; retry failures if ``retry_safe`` (see RetryPolicy)."""
        path = self._endpoint.base_path + route
        request = (
            f"POST {path} HTTP/1.1\r\n{self._head}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode("latin-1") + body
        deadline = time.monotonic() + self._timeouts.deadline
        attempt = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RequestTimeoutError("the call's deadline expired")
            try:
                status, data = await self._attempt(request, remaining)
                if not (retry_safe and is_retryable_status(status, data)):
                    return status, data
                failure = TransportError(f"the proxy answered HTTP {status}")
            except _RetryableError as exc:
                failure = exc.error
            except _ProtocolError as exc:
                failure = TransportError(f"the proxy's answer was not valid HTTP: {exc}")
            if not retry_safe or attempt + 1 >= self._retry.max_attempts:
                raise failure
            delay = self._retry.backoff(attempt)
            if time.monotonic() + delay >= deadline:
                raise failure
            await asyncio.sleep(delay)
            attempt += 1

    async def aclose(self) -> None:
        """Close every pooled connection."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
            with contextlib.suppress(OSError):
                await conn.writer.wait_closed()
