"""Permission rows for the audit pages: members read, verify and download checkpoints (ad hoc
and the latest published one); only admins export and subscribe to notifications
(docs/audit.md)."""

from __future__ import annotations

from typing import Any

from audit.actors import Actor
from audit.chain import chain_key
from audit.models import AuditChainHead
from audit.publishing import checkpoint_publish
from audit.services import record
from tests.permissions.matrix import TENANT, VENDOR, Row, World


def _org(kind: str) -> Any:
    return lambda w: {"org": getattr(w, kind).public_id}


def _published(kind: str) -> Any:
    """The org's kwargs, after publishing a checkpoint of its chain (made on first use)."""

    def kwargs(w: World) -> dict[str, Any]:
        org = getattr(w, kind)
        if f"published_{kind}" not in w.extra:
            vendor = w.vendor if kind == "tenant" else org
            record(
                action="audit.viewed",
                actor=Actor.system("matrix"),
                vendor=vendor,
                tenant=org if kind == "tenant" else None,
            )
            head = AuditChainHead.objects.get(key=_chain(kind, w))
            w.extra[f"published_{kind}"] = checkpoint_publish(chain_pk=head.pk)
        return {"org": org.public_id}

    return kwargs


def _chain(kind: str, w: World) -> str:
    tenant = w.tenant.public_id if kind == "tenant" else None
    return chain_key(w.vendor.public_id, tenant)


def _export(kind: str, fmt: str) -> Any:
    return lambda w: {"org": getattr(w, kind).public_id, "fmt": fmt}


ROWS: list[Row] = []
for kind, org in (("tenant", TENANT), ("vendor", VENDOR)):
    ROWS += [
        Row(f"audit:{kind}", org=org, kwargs=_org(kind)),
        Row(f"audit:{kind}_export", org=org, kwargs=_export(kind, "jsonl"), viewer=False),
        Row(f"audit:{kind}_export", org=org, kwargs=_export(kind, "csv"), viewer=False),
        Row(f"audit:{kind}_checkpoint", org=org, kwargs=_org(kind)),
        Row(f"audit:{kind}_checkpoint_published", org=org, kwargs=_published(kind)),
        # An empty upload is refused by the form: a redirect back with a message.
        Row(f"audit:{kind}_checkpoint_verify", org=org, kwargs=_org(kind), method="POST"),
        Row(
            f"audit:{kind}_notifications",
            org=org,
            kwargs=_org(kind),
            method="POST",
            viewer=False,
            data=lambda w: {"enabled": "1"},
        ),
    ]
