"""The one writer of docs/PERFORMANCE.md: each benchmark replaces its own ``## `` section."""

from __future__ import annotations

import re
from pathlib import Path

PERFORMANCE_MD = Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md"


def write_section(heading: str, text: str, path: Path = PERFORMANCE_MD) -> None:
    """Replace the section that starts with ``heading`` (a ``## `` line) where it stands, up to
    the next ``## `` heading; append it if the file has none. Other sections keep their order."""
    current = path.read_text() if path.exists() else "# Performance\n"
    section = text.strip() + "\n\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        updated = pattern.sub(lambda _: section, current, count=1)
    else:
        updated = current.rstrip() + "\n\n" + section
    path.write_text(updated.rstrip() + "\n")
