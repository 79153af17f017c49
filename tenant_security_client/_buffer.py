"""The bytes-like input type (``collections.abc.Buffer`` arrives only in Python 3.12)."""

from __future__ import annotations

Buffer = bytes | bytearray | memoryview
