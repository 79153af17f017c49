"""``manage.py verify_audit_chain``: recompute hash chains and report the first bad seq."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.checkpoint import CheckpointError, anchor_of, parse_checkpoint
from audit.models import AuditChainHead
from audit.verify import Anchor, chains, verify_chain, verify_documents


class Command(BaseCommand):
    help = "Verify audit hash chains (all, one vendor's, or one tenant's); exit 1 on any failure."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--vendor", type=uuid.UUID, help="Vendor public id: its chains only.")
        parser.add_argument("--tenant", type=uuid.UUID, help="Tenant public id: its chain only.")
        parser.add_argument(
            "--from-checkpoint",
            type=Path,
            help="A downloaded checkpoint: prove its chain still extends it.",
        )
        parser.add_argument(
            "--export", type=Path, help="Verify an exported JSON Lines file instead of the DB."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["export"]:
            self._verify_export(options["export"])
            return
        anchors: dict[str, list[Anchor]] = {}
        heads = chains(vendor_public_id=options["vendor"], tenant_public_id=options["tenant"])
        if options["from_checkpoint"]:
            try:
                doc = parse_checkpoint(options["from_checkpoint"].read_bytes())
            except (OSError, CheckpointError) as exc:
                raise CommandError(str(exc)) from exc
            anchors[doc["chain"]] = [anchor_of(doc)]
            heads = [h for h in heads if h.key == doc["chain"]]
            if not heads:
                raise CommandError(f"Chain {doc['chain']} of the checkpoint does not exist.")
        self._report(heads, anchors)

    def _report(self, heads: list[AuditChainHead], anchors: dict[str, list[Anchor]]) -> None:
        failures = 0
        for head in heads:
            report = verify_chain(head, anchors.get(head.key, ()))
            if report.ok:
                self.stdout.write(
                    f"OK   {report.chain} seq={report.last_seq} hash={report.last_hash}"
                )
            else:
                failures += 1
                self.stdout.write(
                    f"FAIL {report.chain} first bad seq={report.first_bad_seq}: {report.reason}"
                )
        self.stdout.write(f"{len(heads)} chain(s) checked, {failures} failed.")
        if failures:
            raise CommandError(f"{failures} audit chain(s) failed verification.", returncode=1)

    def _verify_export(self, path: Path) -> None:
        try:
            with path.open(encoding="utf-8") as handle:
                count, problem = verify_documents(
                    json.loads(line) for line in handle if line.strip()
                )
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"Cannot read the export: {exc}") from exc
        if problem:
            raise CommandError(f"Export FAILED after {count} event(s): {problem}", returncode=1)
        self.stdout.write(f"OK   export: {count} event(s) verified.")
