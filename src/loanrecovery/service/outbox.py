"""The transactional outbox: messages written with the change that caused them.

A row is only visible once its transaction commits, so a consumer (alert delivery now,
borrower communications later) never sees a message for a change that was rolled back.
Consumers claim rows with :func:`pending` and mark them with :func:`mark_delivered`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loanrecovery.service.db.models import OutboxRow

__all__ = ["emit", "pending", "mark_delivered"]


def emit(session: Session, topic: str, key: str, payload: dict[str, Any]) -> OutboxRow:
    """Add a message to the outbox in the caller's transaction."""
    row = OutboxRow(topic=topic, key=key, payload=payload, created_at=datetime.now(UTC), attempts=0)
    session.add(row)
    return row


def pending(session: Session, *, topic: str | None = None, limit: int = 100) -> Sequence[OutboxRow]:
    """Undelivered messages, oldest first (locked on PostgreSQL, skipping locked rows, so
    two workers never take the same message)."""
    query = select(OutboxRow).where(OutboxRow.delivered_at.is_(None)).order_by(OutboxRow.id)
    if topic is not None:
        query = query.where(OutboxRow.topic == topic)
    query = query.limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query).all()


def mark_delivered(session: Session, rows: Sequence[OutboxRow]) -> None:
    """Mark messages delivered (in the caller's transaction)."""
    now = datetime.now(UTC)
    for row in rows:
        row.delivered_at = now
        row.attempts += 1
