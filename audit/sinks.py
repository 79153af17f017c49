"""Write-once destinations for published audit checkpoints (ACCEPTANCE L-06).

A sink stores each checkpoint under a name (chain + seq) exactly once and never replaces it: a
second ``put`` for a taken name returns what is already stored, and the publisher compares the
two (audit.publishing). The database copy (``AuditCheckpoint``) is written by the publisher
itself; sinks are the copies that survive someone who controls the database.

Implemented: ``WormDirectorySink``, a directory (point it at a WORM mount: NetApp SnapLock, an
NFS export with retention, a ``chattr +i``-ing host, a backup volume with object lock). Each
file is created with ``O_CREAT | O_EXCL`` (an existing name is never opened for writing),
mode 0444, written, ``fsync``-ed, and its directory ``fsync``-ed.

Not implemented (no object store on the build machine): an S3 Object Lock sink. It would be one
class with this ``put``: ``PutObject`` with ``If-None-Match: *`` (write-once name),
``ObjectLockMode=COMPLIANCE`` and a ``RetainUntilDate``, ``Content-MD5``; on 412 ``GetObject`` and
return the stored bytes. ``configured_sinks`` is where it would be added.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from django.conf import settings

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
_FLAGS |= getattr(os, "O_CLOEXEC", 0)


class CheckpointSink(Protocol):
    """Write-once storage for signed checkpoints."""

    def put(self, *, name: str, body: bytes) -> bytes:
        """Store ``body`` under ``name`` unless something is stored there; return what is."""


def checkpoint_name(chain: str, seq: int) -> str:
    """``<chain key, '/' and ':' made safe>/<seq, 12 digits>.json`` (a relative path)."""
    return f"{chain.replace('/', '__').replace(':', '-')}/{seq:012d}.json"


class WormDirectorySink:
    """Checkpoint files in a directory tree; existing files are never opened for writing."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"WormDirectorySink({str(self.root)!r})"

    def put(self, *, name: str, body: bytes) -> bytes:
        path = self.root / name
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
            _fsync_directory(path.parent.parent)  # the new chain folder's own name
        try:
            fd = os.open(path, _FLAGS, 0o444)
        except FileExistsError:
            return path.read_bytes()
        try:
            view = memoryview(body)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        _fsync_directory(path.parent)
        return body


def _fsync_directory(folder: Path) -> None:
    # The new name must survive a crash too, not only the file's bytes.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def configured_sinks() -> list[CheckpointSink]:
    """The sinks of this deployment, from settings (``OPENCMK_AUDIT_CHECKPOINT_DIR``)."""
    sinks: list[CheckpointSink] = []
    directory = str(settings.OPENCMK_AUDIT_CHECKPOINT_DIR or "")
    if directory:
        sinks.append(WormDirectorySink(Path(directory)))
    return sinks
