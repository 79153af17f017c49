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
            help="A checkpoint file, or a directory of them: prove each chain still extends them.",
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
            anchors = self._anchors(options["from_checkpoint"])
            missing = set(anchors) - {h.key for h in heads}
            if missing:
                raise CommandError(f"Chains of these checkpoints are gone: {sorted(missing)}")
            heads = [h for h in heads if h.key in anchors]
        self._report(heads, anchors)

    def _anchors(self, path: Path) -> dict[str, list[Anchor]]:
        """Every checkpoint in a file or, recursively, in a directory, grouped by chain."""
        files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
        anchors: dict[str, list[Anchor]] = {}
        for file in files:
            try:
                doc = parse_checkpoint(file.read_bytes())
            except (OSError, CheckpointError) as exc:
                raise CommandError(f"{file}: {exc}") from exc
            anchors.setdefault(doc["chain"], []).append(anchor_of(doc))
        if not anchors:
            raise CommandError(f"No checkpoint found in {path}.")
        return anchors

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
