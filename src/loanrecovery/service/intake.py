"""Applying a chunk of payment events in ONE transaction, with every effect, in a few queries.

:func:`apply_chunk` is what :meth:`Ledger.ingest_many <loanrecovery.service.ledger.Ledger>`
runs for each chunk of a batch (and for a single event, as a chunk of one). In order:

1. the keys already stored are read (one query; skipped on the first try of a single event,
   whose repeat then fails on the unique key and is retried with the look-up); an event
   whose key is stored, or repeats an earlier event of the chunk, is a ``duplicate`` (the
   same key for another loan or amount raises :class:`ConflictingEvent` before anything is
   written);
2. the chunk's loans are locked (``FOR UPDATE``, in loan-id order so that two processes never
   deadlock) by one query that also brings the as-of facts and whether each loan has live
   promises or an open case; then their panel months, and the live promises of the loans
   that have some, are read (one query each);
3. each new event is applied in order, in memory: panel month, loan state, promises; an event
   for an unknown loan goes to ``suspense``;
4. everything is written in bulk: the events (sorted by key; the unique key
   ``(source, event_id)`` still decides, across processes), suspense rows, panel months, loan
   states;
5. each loan the chunk paid is re-scored ONCE, after all its events (:meth:`Scorer.score_many`:
   scores, plan items, alerts with their outbox messages), the audit rows of the payments and
   scores inserted together, then its case opened, escalated or resolved
   (:func:`~loanrecovery.service.cases.sync_cases`; the open cases read once, for the loans
   that have one).

The statements are built once (:mod:`~loanrecovery.service.chunk_sql`) and run on the
session's connection. All of it commits together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from loanrecovery.service import audit
from loanrecovery.service import chunk_sql as sql
from loanrecovery.service.cases import sync_cases
from loanrecovery.service.db.models import Promise
from loanrecovery.service.events import ConflictingEvent, PaymentIn, PaymentOutcome
from loanrecovery.service.promises import apply_payment_to_promises, as_utc
from loanrecovery.service.scoring import Scorer

__all__ = ["apply_chunk", "PaymentIn", "ConflictingEvent", "PaymentOutcome", "month_for"]

_CENTS = 0.005


@dataclass(slots=True)
class _Payment:
    """One new event as it will be stored (a ``payment_events`` row), kept in memory while
    the chunk is applied; ``id`` is set by the bulk insert."""

    source: str
    event_id: str
    loan_id: str
    amount: float
    paid_at: datetime
    received_at: datetime
    received_by: int | None
    state: str = "suspense"
    applied_at: datetime | None = None
    panel_month: int | None = None
    id: int = 0

    def row(self) -> dict[str, Any]:
        return {"source": self.source, "event_id": self.event_id, "loan_id": self.loan_id,
                "amount": self.amount, "paid_at": self.paid_at, "received_at": self.received_at,
                "state": self.state, "applied_at": self.applied_at,
                "panel_month": self.panel_month, "received_by": self.received_by}  # fmt: skip


@dataclass(slots=True)
class _Month:
    """One panel month held in memory while the chunk is applied."""

    values: list[Any]  # PANEL_ROW order: loan, month, due, paid, dpd, balance
    new: bool = False
    changed: bool = False


@dataclass(slots=True)
class LoanState:
    """A loan of the chunk as read (the columns of ``loans``), changed in memory and written
    back with one bulk update; :class:`~loanrecovery.service.scoring.Scorer` and
    :func:`~loanrecovery.service.cases.sync_cases` read it as they read a ``Loan``."""

    loan_id: str
    borrower_id: str | None
    data: dict[str, Any]
    outstanding: float
    days_past_due: int
    panel_month: int | None
    emi: float
    updated_at: datetime | None
    has_case: bool = True  # whether an open case may exist (read when the chunk began)
    changed: bool = False

    def row(self) -> dict[str, Any]:
        return {"b_loan_id": self.loan_id, "outstanding": self.outstanding,
                "days_past_due": self.days_past_due, "panel_month": self.panel_month,
                "updated_at": self.updated_at}  # fmt: skip


@dataclass
class _State:
    """The chunk's loans, panel months and promises, read once; a panel month is copied into
    ``touched`` when a payment changes it (or creates it)."""

    loans: dict[str, LoanState]
    panels: dict[str, dict[int, tuple[Any, ...]]]
    touched: dict[str, dict[int, _Month]]
    promises: dict[str, list[Promise]]
    as_of: int | None
    anchor: int | None
    audit: list[dict[str, Any]] = field(default_factory=list)


def month_for(as_of: int | None, anchor: int | None, latest: int | None, paid_at: datetime) -> int:
    """The panel month a payment counts in: the book's as-of month plus the calendar months
    since the book was imported (``anchor``), never before the loan's latest panel month."""
    paid_at = as_utc(paid_at)
    calendar = paid_at.year * 12 + paid_at.month - 1
    if as_of is None or anchor is None:
        return latest if latest is not None else calendar
    month = as_of + (calendar - anchor)
    return max(month, latest) if latest is not None else month


def _stored(session: Session, events: Sequence[PaymentIn]) -> dict[tuple[str, str], Any]:
    keys = {(e.source, e.event_id) for e in events}
    params = {
        "sources": sorted({source for source, _ in keys}),
        "event_ids": sorted({event_id for _, event_id in keys}),
    }
    rows = sql.run(session, sql.STORED, params)
    return {(r.source, r.event_id): r for r in rows if (r.source, r.event_id) in keys}


def _check(event: PaymentIn, loan_id: str, amount: float) -> None:
    if loan_id != event.loan_id or abs(amount - event.amount) > _CENTS:
        raise ConflictingEvent(event.source, event.event_id, loan_id, amount)


def _read(session: Session, loan_ids: list[str]) -> _State:
    loans: dict[str, LoanState] = {}
    meta: dict[str, Any] = {}
    with_promises: list[str] = []
    for row in sql.run(session, sql.LOANS, {"ids": loan_ids}):
        loan = LoanState(
            row.loan_id, row.borrower_id, row.data, row.outstanding, row.days_past_due,
            row.panel_month, row.emi, row.updated_at, has_case=bool(row.has_case),
        )  # fmt: skip
        loans[loan.loan_id] = loan
        meta = {"as_of": row.as_of, "anchor": row.anchor}
        if row.has_promises:
            with_promises.append(loan.loan_id)
    known = sorted(loans)
    panels: dict[str, dict[int, tuple[Any, ...]]] = {loan_id: {} for loan_id in known}
    promises: dict[str, list[Promise]] = {loan_id: [] for loan_id in known}
    if known:
        for row in sql.run(session, sql.PANEL, {"ids": known}):
            panels[row[0]][int(row[1])] = tuple(row)
    if with_promises:
        for promise in session.scalars(sql.LIVE_PROMISES, {"ids": with_promises}):
            promises[promise.loan_id].append(promise)
    return _State(
        loans=loans,
        panels=panels,
        touched={loan_id: {} for loan_id in known},
        promises=promises,
        as_of=None if meta.get("as_of") is None else int(meta["as_of"]),
        anchor=None if meta.get("anchor") is None else int(meta["anchor"]),
    )


def _audit(state: _State, actor: str, action: str, entity: str, entity_id: Any, before: Any,
           after: Any) -> None:  # fmt: skip
    change = {"entity_id": entity_id, "before": before, "after": after}
    state.audit += audit.row_values(actor=actor, action=action, entity=entity, changes=[change])


def _apply(session: Session, state: _State, payment: _Payment, *, actor: str) -> dict[str, Any]:
    """Apply one new event to its loan in memory (panel month, loan, promises); returns the
    loan's state before, for the audit row."""
    loan = state.loans[payment.loan_id]
    stored, touched = state.panels[loan.loan_id], state.touched[loan.loan_id]
    month = month_for(state.as_of, state.anchor, loan.panel_month, payment.paid_at)
    row = touched.get(month)
    if row is None and month in stored:
        row = touched[month] = _Month(list(stored[month]))
    if row is None:
        earlier = [m for m in (*stored, *touched) if m < month]
        prev = None
        if earlier:
            last = max(earlier)
            prev = touched[last].values if last in touched else stored[last]
        arrears = 0.0 if prev is None else max(0.0, prev[2] - prev[3])
        row = _Month([loan.loan_id, month, round(loan.emi + arrears, 2), 0.0,
                      float(loan.days_past_due), loan.outstanding], new=True)  # fmt: skip
        touched[month] = row
    before = {"outstanding": loan.outstanding, "days_past_due": loan.days_past_due,
              "panel_month": loan.panel_month}  # fmt: skip
    values = row.values
    values[3] = round(values[3] + payment.amount, 2)
    loan.outstanding = round(max(0.0, loan.outstanding - payment.amount), 2)
    values[5] = loan.outstanding
    if values[3] >= values[2] - _CENTS or loan.outstanding <= _CENTS:
        values[4] = 0.0
    row.changed = True
    if loan.panel_month is None or month >= loan.panel_month:
        loan.days_past_due = int(values[4])
        loan.panel_month = month
    loan.updated_at, loan.changed = datetime.now(UTC), True
    payment.state, payment.applied_at, payment.panel_month = "applied", loan.updated_at, month
    apply_payment_to_promises(session, loan.loan_id, payment.amount, actor=actor,
                              promises=state.promises[loan.loan_id])  # fmt: skip
    return before


def _panel_now(state: _State, loan_id: str) -> list[tuple[Any, ...]]:
    """The loan's panel rows by month, with the chunk's changes."""
    merged = dict(state.panels[loan_id])
    for month, row in state.touched[loan_id].items():
        merged[month] = tuple(row.values)
    return [merged[m] for m in sorted(merged)]


def _write(session: Session, state: _State) -> None:
    """The chunk's new and changed panel months and changed loans, in bulk."""
    fields = ("loan_id", "month", "amount_due", "amount_paid", "days_past_due",
              "outstanding_balance")  # fmt: skip
    new, changed = [], []
    for months in state.touched.values():
        for row in months.values():
            if row.new:
                new.append(dict(zip(fields, row.values, strict=True)))
            elif row.changed:
                loan_id, month, *values = row.values
                changed.append({"b_loan_id": loan_id, "b_month": month,
                                **dict(zip(fields[2:], values, strict=True))})  # fmt: skip
    sql.run(session, sql.INSERT_PANEL, new)
    sql.run(session, sql.UPDATE_PANEL, changed)
    loans = [loan.row() for loan in state.loans.values() if loan.changed]
    sql.run(session, sql.UPDATE_LOANS, loans)


def _record(
    session: Session,
    state: _State,
    events: Sequence[PaymentIn],
    fresh: list[int],
    payments: dict[int, _Payment],
    before: dict[int, dict[str, Any]],
    *,
    actor: str,
    now: datetime,
) -> None:
    """Insert the new events (in key order; the unique key decides here), their suspense
    rows, and one audit row each (kept in ``state.audit``)."""
    order = sorted(fresh, key=lambda i: (events[i].source, events[i].event_id))
    if session.new or session.dirty:  # promises kept: their rows and audit rows come first
        session.flush()
    if order:  # the unique key decides here
        ids = sql.insert_payments(session, [payments[i].row() for i in order])
        for i, payment_id in zip(order, ids, strict=True):
            payments[i].id = payment_id
    held = []
    for i in fresh:
        payment = payments[i]
        if payment.state == "suspense":
            held.append({"payment_id": payment.id, "loan_id": payment.loan_id, "held_at": now})
            _audit(state, actor, "payment.suspense", "payment", payment.id, None,
                   {"loan_id": payment.loan_id, "amount": payment.amount,
                    "source": payment.source, "event_id": payment.event_id})  # fmt: skip
            continue
        loan = state.loans[payment.loan_id]
        _audit(state, actor, "payment.applied", "loan", loan.loan_id, before[i],
               {"outstanding": loan.outstanding, "days_past_due": loan.days_past_due,
                "panel_month": payment.panel_month, "payment_id": payment.id,
                "amount": payment.amount, "source": payment.source,
                "event_id": payment.event_id})  # fmt: skip
    sql.run(session, sql.INSERT_SUSPENSE, held)


def apply_chunk(
    session: Session,
    events: Sequence[PaymentIn],
    *,
    actor: str,
    user_id: int | None,
    scorer: Scorer | None,
    capacity: int,
    look_up: bool = True,
) -> list[PaymentOutcome]:
    """Record and apply ``events`` in the caller's transaction (see the module docstring);
    one outcome per event, in order.

    Raises
    ------
    ConflictingEvent
        A key stored (or given earlier in the chunk) for another loan or amount; nothing of
        the chunk is written.
    sqlalchemy.exc.IntegrityError
        A key was stored meanwhile by another transaction (the caller retries the chunk).
    """
    stored = _stored(session, events) if look_up else {}
    first: dict[tuple[str, str], int] = {}
    fresh: list[int] = []
    for i, event in enumerate(events):
        key = (event.source, event.event_id)
        if key in stored:
            _check(event, stored[key].loan_id, stored[key].amount)
        elif key in first:
            earlier = events[first[key]]
            _check(event, earlier.loan_id, earlier.amount)
        else:
            first[key] = i
            fresh.append(i)
    now = datetime.now(UTC)
    state = _read(session, sorted({events[i].loan_id for i in fresh}))
    payments: dict[int, _Payment] = {}
    before: dict[int, dict[str, Any]] = {}
    for i in fresh:
        event = events[i]
        payment = _Payment(event.source, event.event_id, event.loan_id, float(event.amount),
                           event.paid_at, now, user_id)  # fmt: skip
        payments[i] = payment
        if event.loan_id in state.loans:
            before[i] = _apply(session, state, payment, actor=actor)
    _record(session, state, events, fresh, payments, before, actor=actor, now=now)
    _write(session, state)
    paid = [
        state.loans[i] for i in sorted({p.loan_id for p in payments.values()}) if i in state.loans
    ]
    with_case = [loan.loan_id for loan in paid if loan.has_case]
    cases = (
        {case.loan_id: case for case in session.scalars(sql.OPEN_CASES, {"ids": with_case})}
        if with_case
        else {}
    )
    if paid and scorer is not None:
        panels = {loan.loan_id: _panel_now(state, loan.loan_id) for loan in paid}
        scorer.score_many(
            session, paid, actor=actor, panels=panels, cases=cases, audit_rows=state.audit
        )
    sql.run(session, sql.INSERT_AUDIT, state.audit)
    if paid:
        sync_cases(session, paid, actor=actor, capacity=capacity, cases=cases)
    return _outcomes(events, stored, first, payments)


def _outcomes(
    events: Sequence[PaymentIn],
    stored: dict[tuple[str, str], Any],
    first: dict[tuple[str, str], int],
    payments: dict[int, _Payment],
) -> list[PaymentOutcome]:
    out = []
    for i, event in enumerate(events):
        key = (event.source, event.event_id)
        if key in stored:
            row = stored[key]
            out.append(PaymentOutcome("duplicate", row.id, event.event_id, event.source,
                                      row.loan_id, row.state))  # fmt: skip
        elif first[key] != i:
            original = payments[first[key]]
            out.append(PaymentOutcome("duplicate", original.id, event.event_id, event.source,
                               original.loan_id, original.state))  # fmt: skip
        else:
            payment = payments[i]
            out.append(PaymentOutcome(payment.state, payment.id, event.event_id, event.source,
                               payment.loan_id))  # fmt: skip
    return out
