"""``manage.py audit_checkpoint``: publish due checkpoints now, or write ad-hoc ones to a folder.

``--publish`` does what Celery beat does every ``OPENCMK_AUDIT_CHECKPOINT_SECONDS`` (L-06): every
chain that advanced gets a signed checkpoint, written once to the WORM sinks and stored in the
database (for deployments without beat, run it from cron). ``--out DIR`` writes a checkpoint of
each chain head into DIR (never replacing a file) for shipping elsewhere by hand;
``verify_audit_chain --from-checkpoint DIR`` later proves every chain still extends them.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.checkpoint import write_checkpoints
from audit.publishing import checkpoints_publish_due
from audit.verify import chains


class Command(BaseCommand):
    help = "Publish due audit checkpoints (--publish), or write one per chain head (--out DIR)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--publish", action="store_true", help="Publish every due checkpoint (as beat does)."
        )
        parser.add_argument("--out", type=Path, help="Directory to write into.")
        parser.add_argument("--vendor", type=uuid.UUID, help="Vendor public id: its chains only.")
        parser.add_argument("--tenant", type=uuid.UUID, help="Tenant public id: its chain only.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["publish"]:
            report = checkpoints_publish_due()
            self.stdout.write(f"{report.published} published, {report.failed} failed.")
            if report.failed:
                raise CommandError(f"{report.failed} checkpoint(s) failed; see the log.")
            return
        if options["out"] is None:
            raise CommandError("Pass --publish, or --out DIR.")
        heads = chains(vendor_public_id=options["vendor"], tenant_public_id=options["tenant"])
        written = write_checkpoints(options["out"], heads)
        self.stdout.write(f"{len(written)} checkpoint(s) written to {options['out']}.")
