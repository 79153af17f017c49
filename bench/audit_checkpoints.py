"""Cost of publishing audit checkpoints (L-06), run by hand:

    .venv/bin/python bench/audit_checkpoints.py [--chains 1000] [--database-url postgres://…]
        [--no-worm]

Uses a scratch SQLite database and WORM directory under a temporary folder (or the given
PostgreSQL database, which must be empty and migratable). Creates N tenant chains with one event
each, then times one beat run (``checkpoints_publish_due``): every chain advanced, so each gets
a signed checkpoint written to the directory (O_EXCL, fsync, directory fsync) and a database row.
A second run, with nothing advanced, shows the cost of the idle scan. Prints per-checkpoint time.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=1000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--no-worm", action="store_true", help="Database only (no directory).")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="opencmk-checkpoint-bench-"))
    os.environ.update(
        OPENCMK_LOCAL_DIR=str(scratch),
        OPENCMK_AUDIT_CHECKPOINT_DIR="" if args.no_worm else str(scratch / "worm"),
        DJANGO_SETTINGS_MODULE="broker.settings",
    )
    os.environ.pop("REDIS_URL", None)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from audit.actors import Actor
    from audit.publishing import checkpoints_publish_due
    from audit.services import record
    from tests.broker.factories import TenantFactory, VendorFactory

    vendor = VendorFactory(name="Bench")
    for n in range(args.chains):
        tenant = TenantFactory(vendor=vendor, tenant_id=f"bench-{n}")
        record(action="tenant.viewed", actor=Actor.system(), vendor=None, tenant=tenant)
    started = time.perf_counter()
    report = checkpoints_publish_due()
    busy = time.perf_counter() - started
    started = time.perf_counter()
    idle = checkpoints_publish_due()
    quiet = time.perf_counter() - started
    sink = "database only" if args.no_worm else "WORM directory + database"
    print(f"{'PostgreSQL' if args.database_url else 'SQLite'}, {sink}, scratch: {scratch}")
    print(
        f"beat run, {report.published} chains advanced: {busy:.2f} s "
        f"({busy / max(report.published, 1) * 1e3:.2f} ms per checkpoint), failed {report.failed}"
    )
    print(f"beat run, nothing advanced ({idle.published} published): {quiet * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
