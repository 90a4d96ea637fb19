"""The audit trail: one appended row per change, in the change's own transaction.

There is no function here (or anywhere in the service) that updates or deletes an audit row,
and the database refuses both (triggers created by the migration).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from loanrecovery.service.db.models import AuditRow

__all__ = ["record", "record_many", "row_values", "SYSTEM"]

#: The actor of changes made by the service itself (imports, sweeps, automatic cases).
SYSTEM = "system"


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one audit row: who (``actor``), what (``action`` on ``entity``), before, after.

    Personal data must not be passed in ``before``/``after``: callers pass ids, amounts,
    statuses and scores only.
    """
    session.add(
        AuditRow(
            at=datetime.now(UTC),
            actor=actor,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=before,
            after=after,
        )
    )


def row_values(
    *, actor: str, action: str, entity: str, changes: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The ``audit_log`` rows (column values, one timestamp) of ``changes``, each
    ``{"entity_id", "before", "after"}``, for a caller that inserts them with others."""
    now = datetime.now(UTC)
    return [
        {"at": now, "actor": actor, "action": action, "entity": entity,
         "entity_id": str(c["entity_id"]), "before": c.get("before"), "after": c.get("after")}
        for c in changes
    ]  # fmt: skip


def record_many(
    session: Session, *, actor: str, action: str, entity: str, rows: list[dict[str, Any]]
) -> None:
    """Append one audit row per ``{"entity_id", "before", "after"}`` in ``rows`` (same actor,
    action and entity) with bulk inserts, in the caller's transaction."""
    values = row_values(actor=actor, action=action, entity=entity, changes=rows)
    for start in range(0, len(values), 5_000):
        session.execute(insert(AuditRow), values[start : start + 5_000])
