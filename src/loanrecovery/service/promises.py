"""Promises to pay: recorded on a case, marked Kept / Partial by payments, Broken by the
sweep when their date passes unpaid."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from loanrecovery.service import audit
from loanrecovery.service.alerts import raise_alert
from loanrecovery.service.db.models import Case, Promise

__all__ = ["apply_payment_to_promises", "live_promises", "sweep_broken_promises", "as_utc", "LIVE"]

#: Promise statuses still waiting for money.
LIVE = ("Open", "Partial")
_CENTS = 0.005


def as_utc(moment: datetime) -> datetime:
    """A datetime in UTC (SQLite hands back naive datetimes, which are UTC here)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def live_promises(session: Session, loan_ids: Sequence[str]) -> dict[str, list[Promise]]:
    """The live promises of each loan, oldest date first (one query)."""
    out: dict[str, list[Promise]] = {i: [] for i in loan_ids}
    if not loan_ids:
        return out
    for promise in session.scalars(
        select(Promise)
        .where(Promise.loan_id.in_(loan_ids), Promise.status.in_(LIVE))
        .order_by(Promise.promised_date, Promise.id)
    ):
        out[promise.loan_id].append(promise)
    return out


def apply_payment_to_promises(
    session: Session,
    loan_id: str,
    amount: float,
    *,
    actor: str,
    promises: Sequence[Promise] | None = None,
) -> list[Promise]:
    """Count a payment towards the loan's live promises, oldest date first; a promise paid in
    full is Kept, one paid in part is Partial. Returns the promises changed.

    ``promises``: the loan's live promises already read (:func:`live_promises`), when the
    caller applies several payments in one transaction."""
    changed = []
    remaining = float(amount)
    if promises is None:
        promises = live_promises(session, [loan_id])[loan_id]
    for promise in promises:
        if remaining <= 0:
            break
        if promise.status not in LIVE:
            continue
        before = {"status": promise.status, "paid": promise.paid}
        take = min(remaining, promise.amount - promise.paid)
        promise.paid = round(promise.paid + take, 2)
        remaining -= take
        promise.status = "Kept" if promise.paid >= promise.amount - _CENTS else "Partial"
        audit.record(
            session, actor=actor, action="promise." + promise.status.lower(), entity="promise",
            entity_id=promise.id, before=before,
            after={"status": promise.status, "paid": promise.paid},
        )  # fmt: skip
        changed.append(promise)
        if promise.status == "Kept":
            case = session.get(Case, promise.case_id)
            if (
                case is not None
                and case.is_open
                and case.status in ("Promise to Pay", "Broken PTP")
            ):
                case.status = "In Progress"
    return changed


def sweep_broken_promises(session: Session, *, now: datetime | None = None, actor: str) -> int:
    """Mark Broken every live promise whose date has passed (the whole promised day counts),
    with an alert each; returns how many."""
    now = as_utc(now or datetime.now(UTC))
    count = 0
    promises = session.scalars(
        select(Promise)
        .where(Promise.status.in_(LIVE))
        .order_by(Promise.id)
        .with_for_update(skip_locked=True)  # two servers never break the same promise twice
    ).all()
    for promise in promises:
        if as_utc(promise.promised_date) + timedelta(days=1) > now:
            continue
        before = {"status": promise.status, "paid": promise.paid}
        promise.status = "Broken"
        case = session.get(Case, promise.case_id)
        if case is not None and case.is_open:
            case.status = "Broken PTP"
        audit.record(
            session, actor=actor, action="promise.broken", entity="promise",
            entity_id=promise.id, before=before, after={"status": "Broken", "paid": promise.paid},
        )  # fmt: skip
        raise_alert(
            session, loan_id=promise.loan_id, kind="broken_promise",
            message=f"promise {promise.id} of {promise.amount:.2f} due "
            f"{as_utc(promise.promised_date).date().isoformat()} was not kept "
            f"({promise.paid:.2f} paid)",
        )  # fmt: skip
        count += 1
    return count
