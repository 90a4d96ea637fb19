"""Alerts: written with the change that caused them, and announced through the outbox."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from loanrecovery.service import outbox
from loanrecovery.service.db.models import Alert

__all__ = ["raise_alert", "ALERT_KINDS"]

#: Why an alert is raised.
ALERT_KINDS = ("watchlist", "risk_band", "broken_promise")


def raise_alert(session: Session, *, loan_id: str, kind: str, message: str) -> Alert:
    """Add an alert and its outbox message in the caller's transaction."""
    alert = Alert(loan_id=loan_id, kind=kind, message=message, created_at=datetime.now(UTC))
    session.add(alert)
    session.flush()
    outbox.emit(
        session,
        "alert",
        f"alert:{alert.id}",
        {"alert_id": alert.id, "loan_id": loan_id, "kind": kind, "message": message},
    )
    return alert
