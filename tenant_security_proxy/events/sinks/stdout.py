"""Default sink for tenants without a logging config: one JSON object per line on stdout.

Like IronCore's Logdriver, which logs an unconfigured tenant's events to stdout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from tenant_security_proxy.events.sinks.base import SinkDeliveryError, dumps_line


class StdoutSink:
    provider = "stdout"

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    async def send(self, events: Sequence[Mapping[str, Any]]) -> int:
        # One write per batch: lines from concurrent tenants' batches never interleave.
        raw = b"".join([dumps_line(event) for event in events])
        text = raw.decode("utf-8", "surrogatepass")
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError) as exc:
            raise SinkDeliveryError(self.provider, type(exc).__name__, retriable=True) from exc
        return 0

    async def aclose(self) -> None:
        """The stream belongs to the process, not to this sink."""
