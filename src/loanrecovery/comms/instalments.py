"""Upcoming instalments: which open loans have an instalment falling due soon, how much and
when, read from the loan table and the payment panel of the service database.

The panel counts months as integers; the book's ``as_of`` panel month stands for the
calendar month ``anchor`` (both in ``meta``, written by the importer), so panel month ``m``
falls in calendar month ``anchor + (m - as_of)``. An instalment is due on the settings'
``instalment_due_day`` of its month. The next instalment of a loan is the first month whose
due date is today or later; its amount is what that panel month still asks for when the
month is already open (a payment opened it), else the instalment (``emi``) plus what the
loan's latest panel month left unpaid, as the ledger opens a new month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loanrecovery.delinquency import CHARGED_OFF_STATUSES, CLOSED_STATUSES
from loanrecovery.service.db.models import Loan, Meta, PanelMonth
from loanrecovery.service.ledger import calendar_month
from loanrecovery.service.promises import as_utc

__all__ = [
    "Instalment",
    "due_date",
    "instalment_key",
    "paid_since_scheduled",
    "upcoming_instalments",
]

_CENTS = 0.005
_INACTIVE = CLOSED_STATUSES | CHARGED_OFF_STATUSES


@dataclass(frozen=True)
class Instalment:
    """One loan's next instalment: its panel month, due date and the amount asked for."""

    loan: Loan
    month: int
    due: date
    amount: float


def due_date(calendar: int, day: int) -> date:
    """The due date in a calendar month given as ``year * 12 + month - 1``."""
    return date(calendar // 12, calendar % 12 + 1, day)


def _meta(session: Session, key: str) -> int | None:
    value = session.scalar(select(Meta.value).where(Meta.key == key))
    return None if value is None else int(value)


def upcoming_instalments(
    session: Session, now: datetime, *, lead_days: int, due_day: int
) -> list[Instalment]:
    """Open loans (something outstanding, an instalment, a borrower, not closed or charged
    off) whose next instalment is due within ``lead_days`` days of ``now`` (its day
    included), with a positive amount still asked for; ordered by loan id."""
    today = as_utc(now).date()
    this_month = calendar_month(as_utc(now))
    as_of, anchor = _meta(session, "as_of"), _meta(session, "anchor")
    if as_of is None or anchor is None:
        as_of = anchor = this_month  # no panel yet: panel months are calendar months
    month = as_of + (this_month - anchor)  # the panel month of today
    if due_date(this_month, due_day) < today:
        month, calendar = month + 1, this_month + 1
    else:
        calendar = this_month
    due = due_date(calendar, due_day)
    if (due - today).days > lead_days:
        return []
    loans = [
        loan
        for loan in session.scalars(
            select(Loan)
            .where(Loan.borrower_id.is_not(None), Loan.outstanding > _CENTS, Loan.emi > _CENTS)
            .order_by(Loan.loan_id)
        )
        if _active(loan)
    ]
    asked = _asked_for(session, loans, month)
    return [
        Instalment(loan, month, due, asked[loan.loan_id])
        for loan in loans
        if asked[loan.loan_id] > _CENTS
    ]


def _active(loan: Loan) -> bool:
    return str((loan.data or {}).get("Loan_Status") or "").strip() not in _INACTIVE


def _asked_for(session: Session, loans: list[Loan], month: int) -> dict[str, float]:
    """What each loan's instalment of panel ``month`` still asks for: the open month's due
    less paid, else the instalment plus what the latest earlier month left unpaid; never more
    than is outstanding."""
    ids = [loan.loan_id for loan in loans]
    opened: dict[str, float] = {}
    left: dict[str, float] = {}
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for loan_id, due_amount, paid in session.execute(
            select(PanelMonth.loan_id, PanelMonth.amount_due, PanelMonth.amount_paid).where(
                PanelMonth.loan_id.in_(chunk), PanelMonth.month == month
            )
        ):
            opened[loan_id] = max(0.0, due_amount - paid)
        latest = (
            select(PanelMonth.loan_id, func.max(PanelMonth.month).label("m"))
            .where(PanelMonth.loan_id.in_(chunk), PanelMonth.month < month)
            .group_by(PanelMonth.loan_id)
            .subquery()
        )
        for loan_id, due_amount, paid in session.execute(
            select(PanelMonth.loan_id, PanelMonth.amount_due, PanelMonth.amount_paid).join(
                latest, (latest.c.loan_id == PanelMonth.loan_id) & (latest.c.m == PanelMonth.month)
            )
        ):
            left[loan_id] = max(0.0, due_amount - paid)
    out = {}
    for loan in loans:
        if loan.loan_id in opened:
            amount = opened[loan.loan_id]
        else:
            amount = loan.emi + left.get(loan.loan_id, 0.0)
        out[loan.loan_id] = round(min(amount, loan.outstanding), 2)
    return out


def instalment_key(loan_id: str, due: date) -> str:
    """The idempotency key of a loan's reminder for the instalment due on ``due``."""
    return f"instalment:{loan_id}:{due:%Y-%m}"


def paid_since_scheduled(session: Session, keys: list[str]) -> set[str]:
    """Of the reminder ``keys`` (:func:`instalment_key`), those whose instalment nothing is
    asked for any more: paid (or paid off, or the loan closed) after the reminder was
    scheduled. Checked by the worker when it claims a reminder, so that a borrower who paid
    is not reminded."""
    as_of, anchor = _meta(session, "as_of"), _meta(session, "anchor")
    wanted: dict[int, list[tuple[str, str]]] = {}
    for key in keys:
        _, loan_id, month_text = key.split(":", 2)
        year, month_no = (int(part) for part in month_text.split("-"))
        calendar = year * 12 + month_no - 1
        panel = calendar if as_of is None or anchor is None else as_of + (calendar - anchor)
        wanted.setdefault(panel, []).append((key, loan_id))
    paid: set[str] = set()
    for panel, pairs in wanted.items():
        ids = sorted({loan_id for _, loan_id in pairs})
        loans = list(session.scalars(select(Loan).where(Loan.loan_id.in_(ids))))
        asked = _asked_for(session, [loan for loan in loans if _active(loan)], panel)
        paid |= {key for key, loan_id in pairs if asked.get(loan_id, 0.0) <= _CENTS}
    return paid
