"""``manage.py verify_audit_chain``: recompute hash chains and report the first bad seq.

Every chain is checked against its head row and every checkpoint the broker published (the
``AuditCheckpoint`` rows, L-06); ``--worm`` adds the copies in ``OPENCMK_AUDIT_CHECKPOINT_DIR``
and ``--from-checkpoint`` any checkpoints a customer kept. Only copies held outside the
database survive someone who rewrites the events, the head rows and the checkpoint rows alike.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.checkpoint import CheckpointError, anchor_of, parse_checkpoint, stored_anchors
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
            "--worm",
            action="store_true",
            help="Also check every checkpoint file in OPENCMK_AUDIT_CHECKPOINT_DIR.",
        )
        parser.add_argument(
            "--export", type=Path, help="Verify an exported JSON Lines file instead of the DB."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["export"]:
            self._verify_export(options["export"])
            return
        heads = chains(vendor_public_id=options["vendor"], tenant_public_id=options["tenant"])
        if options["from_checkpoint"]:
            kept = self._anchors(options["from_checkpoint"])
            self._refuse_missing(kept, heads)
            heads = [h for h in heads if h.key in kept]
        anchors, problems = stored_anchors(heads)
        if options["from_checkpoint"]:
            _merge(anchors, kept)
        if options["worm"]:
            worm = self._worm_anchors()
            self._refuse_missing(worm, chains())
            _merge(anchors, worm)
        self._report(heads, anchors, problems)

    def _worm_anchors(self) -> dict[str, list[Anchor]]:
        folder = str(settings.OPENCMK_AUDIT_CHECKPOINT_DIR or "")
        if not folder:
            raise CommandError("OPENCMK_AUDIT_CHECKPOINT_DIR is not set: no WORM copies to check.")
        return self._anchors(Path(folder), allow_empty=True)

    def _refuse_missing(
        self, anchors: dict[str, list[Anchor]], heads: list[AuditChainHead]
    ) -> None:
        missing = set(anchors) - {h.key for h in heads}
        if missing:
            raise CommandError(
                f"Chains of these checkpoints are gone: {sorted(missing)}", returncode=1
            )

    def _anchors(self, path: Path, *, allow_empty: bool = False) -> dict[str, list[Anchor]]:
        """Every checkpoint in a file or, recursively, in a directory, grouped by chain."""
        files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
        anchors: dict[str, list[Anchor]] = {}
        for file in files:
            try:
                doc = parse_checkpoint(file.read_bytes())
            except (OSError, CheckpointError) as exc:
                raise CommandError(f"{file}: {exc}", returncode=1) from exc
            anchors.setdefault(doc["chain"], []).append(anchor_of(doc))
        if not anchors and not allow_empty:
            raise CommandError(f"No checkpoint found in {path}.")
        return anchors

    def _report(
        self,
        heads: list[AuditChainHead],
        anchors: dict[str, list[Anchor]],
        problems: dict[str, str],
    ) -> None:
        failures = 0
        for head in heads:
            report = verify_chain(head, anchors.get(head.key, ()))
            checked = len(anchors.get(head.key, ()))
            if head.key in problems:
                failures += 1
                self.stdout.write(f"FAIL {head.key} {problems[head.key]}")
            elif report.ok:
                self.stdout.write(
                    f"OK   {report.chain} seq={report.last_seq} hash={report.last_hash} "
                    f"checkpoints={checked}"
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


def _merge(into: dict[str, list[Anchor]], more: dict[str, list[Anchor]]) -> None:
    for key, found in more.items():
        into.setdefault(key, []).extend(found)
