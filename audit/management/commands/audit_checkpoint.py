"""``manage.py audit_checkpoint --out DIR``: write a signed checkpoint of every chain head.

Run it from cron (or a Celery beat entry) and ship DIR to write-once storage or the tenants'
SIEMs; ``verify_audit_chain --from-checkpoint DIR`` later proves every chain still extends
every checkpoint, so history deleted or rewritten after a checkpoint is detected (L-06).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from audit.checkpoint import write_checkpoints
from audit.verify import chains


class Command(BaseCommand):
    help = "Write a signed checkpoint (chain, seq, hash) of each audit chain head into a directory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, required=True, help="Directory to write into.")
        parser.add_argument("--vendor", type=uuid.UUID, help="Vendor public id: its chains only.")
        parser.add_argument("--tenant", type=uuid.UUID, help="Tenant public id: its chain only.")

    def handle(self, *args: Any, **options: Any) -> None:
        heads = chains(vendor_public_id=options["vendor"], tenant_public_id=options["tenant"])
        written = write_checkpoints(options["out"], heads)
        self.stdout.write(f"{len(written)} checkpoint(s) written to {options['out']}.")
