"""Signed checkpoints: (chain, seq, hash) a customer keeps outside the broker.

A later verification proves the chain still extends every checkpoint it is given, which detects
deleted or rewritten history even if an attacker also rewrote the chain head row. Checkpoints are
signed with Ed25519 so they can be checked offline against the broker's published public key.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from audit.chain import rfc3339
from audit.models import AuditChainHead, AuditCheckpoint
from audit.sinks import WormDirectorySink, checkpoint_name
from audit.verify import Anchor, verify_chain

CHECKPOINT_TYPE = "opencmk-audit-checkpoint"
_SIGNED_PREFIX = b"OpenCMK/1/audit-checkpoint\n"


class CheckpointError(ValueError):
    """A checkpoint is malformed or its signature does not verify."""


def _signing_key() -> SigningKey:
    # Derived with domain separation, so the checkpoint key is not the SECRET_KEY itself.
    seed = hashlib.sha256(b"opencmk-audit-checkpoint-key:" + settings.SECRET_KEY.encode()).digest()
    return SigningKey(seed)


def public_key_b64() -> str:
    return base64.b64encode(bytes(_signing_key().verify_key)).decode()


def _payload(doc: dict[str, Any]) -> bytes:
    body = {k: doc[k] for k in ("type", "chain", "seq", "hash", "issued_at")}
    return _SIGNED_PREFIX + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def checkpoint_for(head: AuditChainHead) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "type": CHECKPOINT_TYPE,
        "chain": head.key,
        "seq": head.seq,
        "hash": head.hash,
        "issued_at": rfc3339(timezone.now()),
    }
    signed = _signing_key().sign(_payload(doc))
    doc["signer"] = public_key_b64()
    doc["sig"] = base64.b64encode(signed.signature).decode()
    return doc


def parse_checkpoint(raw: bytes | str, *, require_our_key: bool = True) -> dict[str, Any]:
    """Parse and check a checkpoint; ``CheckpointError`` unless well formed and signed."""
    try:
        doc = json.loads(raw)
        if not isinstance(doc, dict) or doc.get("type") != CHECKPOINT_TYPE:
            raise CheckpointError("Not an OpenCMK audit checkpoint.")
        if not (isinstance(doc["seq"], int) and doc["seq"] >= 0 and isinstance(doc["chain"], str)):
            raise CheckpointError("Checkpoint fields have the wrong types.")
        bytes.fromhex(doc["hash"])
        signer = base64.b64decode(doc["signer"], validate=True)
        VerifyKey(signer).verify(_payload(doc), base64.b64decode(doc["sig"], validate=True))
    except CheckpointError:
        raise
    except (ValueError, KeyError, TypeError, BadSignatureError) as exc:
        raise CheckpointError("The checkpoint is malformed or its signature is invalid.") from exc
    if require_our_key and doc["signer"] != public_key_b64():
        raise CheckpointError("The checkpoint was signed by another broker key.")
    return doc


def anchor_of(doc: dict[str, Any]) -> Anchor:
    return Anchor(doc["seq"], doc["hash"], f"checkpoint of {doc['issued_at']}")


def check_upload(raw: bytes, head: AuditChainHead | None, chain: str) -> tuple[bool, str]:
    """Check an uploaded checkpoint against an organisation's chain: (ok, message for the user)."""
    try:
        doc = parse_checkpoint(raw)
    except CheckpointError as exc:
        return False, str(exc)
    if doc["chain"] != chain or head is None:
        return False, "This checkpoint belongs to another audit chain."
    report = verify_chain(head, [anchor_of(doc)])
    if not report.ok:
        return False, f"Verification FAILED at seq {report.first_bad_seq}: {report.reason}."
    return (
        True,
        f"The chain still extends the checkpoint at seq {doc['seq']} (now {report.last_seq}).",
    )


def write_checkpoints(out: Path, heads: Iterable[AuditChainHead]) -> list[Path]:
    """One file per chain, ``<out>/<chain key made safe>/<seq>.json``, never overwritten."""
    sink = WormDirectorySink(out)
    written = []
    for head in heads:
        name = checkpoint_name(head.key, head.seq)
        sink.put(name=name, body=(json.dumps(checkpoint_for(head), indent=2) + "\n").encode())
        written.append(out / name)
    return written


def stored_anchors(
    heads: Iterable[AuditChainHead],
) -> tuple[dict[str, list[Anchor]], dict[str, str]]:
    """The published checkpoints (``AuditCheckpoint`` rows) of these chains, as anchors.

    Returns (anchors by chain key, problem by chain key): a stored checkpoint whose signature
    fails, or whose signed fields differ from its row or its chain, is a problem of that chain.
    """
    by_pk = {head.pk: head for head in heads}
    anchors: dict[str, list[Anchor]] = {head.key: [] for head in by_pk.values()}
    problems: dict[str, str] = {}
    rows = AuditCheckpoint.objects.filter(chain_id__in=list(by_pk)).order_by("chain_id", "seq")
    for row in rows.iterator(chunk_size=2000):
        key = by_pk[row.chain_id].key
        try:
            doc = parse_checkpoint(row.body)
        except CheckpointError as exc:
            problems.setdefault(key, f"stored checkpoint at seq {row.seq}: {exc}")
            continue
        if (doc["chain"], doc["seq"], doc["hash"]) != (key, row.seq, row.hash):
            problems.setdefault(key, f"stored checkpoint at seq {row.seq} does not match its row")
            continue
        anchors[key].append(
            Anchor(row.seq, row.hash, f"published checkpoint of {doc['issued_at']}")
        )
    return anchors, problems
