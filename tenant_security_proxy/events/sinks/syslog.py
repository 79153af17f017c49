"""Syslog: RFC 5424 messages over TLS (RFC 5425), octet-counting framing `LEN SP MSG`.

    <110>1 2026-05-05T17:36:45.576Z host opencmk-tsp 42 KMS_WRAP [opencmk@32473 tenant="t"] {..}

PRI 110 = facility 13 (log audit) * 8 + severity 6 (informational); failures use severity 4
(warning). 32473 is the enterprise number RFC 5612 reserves for documentation. MSG is the event
as JSON, UTF-8 with a BOM as RFC 5424 §6.4 asks. TLS has no application-level acknowledgement, so
a batch written just before the server drops the connection can be lost without an error; the
sink reconnects whenever it sees the server has closed the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from tenant_security_proxy.events.sinks.base import (
    Fields,
    SinkConfigError,
    SinkDeliveryError,
    dumps,
)

PROVIDER = "syslog"
FACILITY_LOG_AUDIT = 13
SEVERITY_INFO, SEVERITY_WARNING = 6, 4
SD_ID = "opencmk@32473"
BOM = "\ufeff"


def _printable(text: str, limit: int) -> str:
    """RFC 5424 header fields are PRINTUSASCII (33..126), bounded, '-' when empty."""
    cleaned = "".join(c for c in text if 33 <= ord(c) <= 126)[:limit]
    return cleaned or "-"


def _sd_value(text: str) -> str:
    # RFC 5424 §6.3.3: '"', '\' and ']' are escaped inside PARAM-VALUE.
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def format_message(event: Mapping[str, Any], *, hostname: str, app_name: str, procid: str) -> bytes:
    details = event.get("details")
    failed = isinstance(details, Mapping) and details.get("result") == "failure"
    severity = (
        SEVERITY_WARNING if failed or event.get("event") == "EVENTS_DROPPED" else SEVERITY_INFO
    )
    pri = FACILITY_LOG_AUDIT * 8 + severity
    sd = (
        f'[{SD_ID} tenant="{_sd_value(str(event.get("tenant_id")))}"'
        f' source="{_sd_value(str(event.get("source")))}"'
        f' eventId="{_sd_value(str(event.get("event_id")))}"]'
    )
    header = (
        f"<{pri}>1 {_printable(str(event.get('timestamp')), 32)} {hostname} {app_name} {procid} "
        f"{_printable(str(event.get('event')), 32)} {sd} "
    )
    return header.encode() + (BOM + dumps(event)).encode("utf-8")


def frame(message: bytes) -> bytes:
    """RFC 5425 §4.3 octet counting."""
    return str(len(message)).encode() + b" " + message


class SyslogSink:
    provider = PROVIDER

    def __init__(self, config: Mapping[str, Any]) -> None:
        f = Fields(PROVIDER, config, required={"host"}, optional={"port", "app_name", "hostname"})
        self._host = f.text("endpoint") if config.get("endpoint") else f.text("host")
        if any(c in self._host for c in "/:@ ") and not self._host.startswith("["):
            raise SinkConfigError(PROVIDER, "field 'host' must be a host name or IP address")
        self._port = f.integer("port", 6514, low=1, high=65535)
        self._ssl = f.ssl_context()
        self._timeout = f.timeout()
        self._app_name = _printable(f.opt_text("app_name") or "opencmk-tsp", 48)
        self._hostname = _printable(f.opt_text("hostname") or socket.gethostname(), 255)
        self._procid = str(os.getpid())
        self._writer: asyncio.StreamWriter | None = None
        self._reader: asyncio.StreamReader | None = None
        self._lock = asyncio.Lock()

    async def _connection(self) -> asyncio.StreamWriter:
        writer, reader = self._writer, self._reader
        if writer is not None and reader is not None and not reader.at_eof():
            return writer
        await self._drop_connection()
        opened = asyncio.open_connection(
            self._host, self._port, ssl=self._ssl, server_hostname=self._host.strip("[]")
        )
        new_reader, new_writer = await asyncio.wait_for(opened, self._timeout)
        self._reader, self._writer = new_reader, new_writer
        return new_writer

    async def send(self, events: Sequence[Mapping[str, Any]]) -> int:
        payload = b"".join(
            frame(
                format_message(
                    e, hostname=self._hostname, app_name=self._app_name, procid=self._procid
                )
            )
            for e in events
        )
        async with self._lock:
            try:
                writer = await self._connection()
                writer.write(payload)
                await asyncio.wait_for(writer.drain(), self._timeout)
            except (OSError, TimeoutError, EOFError, ConnectionError) as exc:
                await self._drop_connection()
                reason = f"connection error ({type(exc).__name__})"
                raise SinkDeliveryError(PROVIDER, reason, retriable=True) from exc
        return 0

    async def _drop_connection(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, TimeoutError, ConnectionError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def aclose(self) -> None:
        async with self._lock:
            await self._drop_connection()

    def __repr__(self) -> str:
        return f"<SyslogSink {self._host}:{self._port}>"
