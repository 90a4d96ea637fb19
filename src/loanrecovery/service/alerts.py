"""Alerts: written with the change that caused them, and announced through the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from loanrecovery.service import outbox
from loanrecovery.service.db.models import Alert, OutboxRow

__all__ = ["raise_alert", "raise_alerts", "ALERT_KINDS"]

#: Why an alert is raised.
ALERT_KINDS = ("watchlist", "risk_band", "broken_promise")

_CHUNK = 2_000


def _payload(alert_id: int, loan_id: str, kind: str, message: str) -> dict[str, object]:
    return {"alert_id": alert_id, "loan_id": loan_id, "kind": kind, "message": message}


def raise_alert(session: Session, *, loan_id: str, kind: str, message: str) -> Alert:
    """Add an alert and its outbox message in the caller's transaction."""
    alert = Alert(loan_id=loan_id, kind=kind, message=message, created_at=datetime.now(UTC))
    session.add(alert)
    session.flush()
    outbox.emit(session, "alert", f"alert:{alert.id}", _payload(alert.id, loan_id, kind, message))
    return alert


def raise_alerts(session: Session, kind: str, items: Sequence[tuple[str, str]]) -> int:
    """Add many alerts of one ``kind`` (``(loan_id, message)`` pairs) and their outbox
    messages in the caller's transaction, a few statements per thousand; returns how many."""
    now = datetime.now(UTC)
    for start in range(0, len(items), _CHUNK):
        chunk = items[start : start + _CHUNK]
        rows = [
            {"loan_id": loan_id, "kind": kind, "message": message, "created_at": now}
            for loan_id, message in chunk
        ]
        ids = session.scalars(insert(Alert).returning(Alert.id, sort_by_parameter_order=True), rows)
        messages = [
            {"topic": "alert", "key": f"alert:{alert_id}", "created_at": now, "attempts": 0,
             "payload": _payload(alert_id, loan_id, kind, message)}
            for alert_id, (loan_id, message) in zip(ids.all(), chunk, strict=True)
        ]  # fmt: skip
        session.execute(insert(OutboxRow), messages)
    return len(items)
