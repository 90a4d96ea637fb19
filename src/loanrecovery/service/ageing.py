"""Ageing the payment panel when the calendar has moved on (the monthly refresh's first step).

Months are the ledger's: a loan's current month is :func:`~loanrecovery.service.ledger.
panel_month_for` at the moment of the refresh (the book's as-of month plus the calendar months
since the import), and a month is opened as the ledger opens it (``Ledger.new_month``: the
instalment plus what the previous month left unpaid). What the ledger leaves to the refresh is
the ageing of days past due: a month after the book's as-of month that is not paid in full
stands at 30 days per instalment left unpaid at the end of the previous month (the
simulator's and the contract's ``30 * ceil(arrears / instalment)``); a month paid in full
stands at 0. The rule reads only stored months, so ageing twice changes nothing the second
time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loanrecovery.service import audit
from loanrecovery.service.cases import sync_case
from loanrecovery.service.db.models import Loan, Meta, PanelMonth
from loanrecovery.service.ledger import Ledger, panel_month_for

__all__ = ["AgeingReport", "age_panel", "current_month", "DAYS_PER_INSTALMENT"]

#: Days past due per instalment left unpaid.
DAYS_PER_INSTALMENT = 30
_CENTS = 0.005


@dataclass(frozen=True)
class AgeingReport:
    """What ageing did: the current panel month, months opened, loans whose days past due
    changed."""

    month: int | None
    months_added: int
    loans_aged: int


def current_month(session: Session, moment: datetime) -> int | None:
    """The panel month ``moment`` falls in for a loan without a panel of its own (None before
    any book with a panel was imported)."""
    if session.get(Meta, "as_of") is None or session.get(Meta, "anchor") is None:
        return None
    probe = Loan(loan_id="", panel_month=None)  # transient: never added to the session
    return panel_month_for(session, probe, moment)


def _aged_days(prev: PanelMonth | None, row: PanelMonth, emi: float) -> float:
    if row.amount_paid >= row.amount_due - _CENTS:
        return 0.0
    arrears = 0.0 if prev is None else max(0.0, prev.amount_due - prev.amount_paid)
    if arrears <= _CENTS:
        return 0.0
    missed = math.ceil(arrears / emi - 1e-9) if emi > _CENTS else 1
    return float(DAYS_PER_INSTALMENT * max(missed, 1))


def _months(session: Session, loan_id: str, after: int) -> list[PanelMonth]:
    return list(
        session.scalars(
            select(PanelMonth)
            .where(PanelMonth.loan_id == loan_id, PanelMonth.month >= after)
            .order_by(PanelMonth.month)
        )
    )


def age_panel(session: Session, *, now: datetime, actor: str, capacity: int) -> AgeingReport:
    """Open the current month for every loan with a balance whose panel reaches the book's
    as-of month (a panel that stopped earlier stopped for a reason) but stops before it, age
    days past due of the months after the book's as-of month, move the loans and their cases
    along (``sync_case``), and audit one ``panel.aged`` row; in the caller's transaction."""
    month = current_month(session, now)
    meta = session.get(Meta, "as_of")
    if month is None or meta is None:
        return AgeingReport(None, 0, 0)
    as_of = int(meta.value)
    if month <= as_of:
        return AgeingReport(month, 0, 0)
    added = aged = 0
    loans = session.scalars(
        select(Loan).where(Loan.outstanding > _CENTS, Loan.panel_month >= as_of)
        .order_by(Loan.loan_id)
    ).all()  # fmt: skip
    for loan in loans:
        latest = int(loan.panel_month or as_of)
        for m in range(latest + 1, month + 1):
            Ledger.new_month(session, loan, m)  # the ledger's definition of a new month
            added += 1
        rows = _months(session, loan.loan_id, as_of)
        before = loan.days_past_due
        for prev, row in zip(rows, rows[1:], strict=False):
            row.days_past_due = _aged_days(prev, row, loan.emi)
        if rows and rows[-1].month > as_of:
            loan.panel_month = rows[-1].month
            loan.days_past_due = int(rows[-1].days_past_due)
        if loan.days_past_due != before:
            aged += 1
            sync_case(session, loan, actor=actor, capacity=capacity)
    if added or aged:
        audit.record(
            session, actor=actor, action="panel.aged", entity="book", entity_id=str(month),
            before={"as_of": as_of}, after={"month": month, "months_added": added,
                                            "loans_aged": aged},
        )  # fmt: skip
    return AgeingReport(month, added, aged)
