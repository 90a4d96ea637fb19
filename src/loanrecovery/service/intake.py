"""Applying a chunk of payment events in ONE transaction, with every effect, in a few queries.

:func:`apply_chunk` is what :meth:`Ledger.ingest_many <loanrecovery.service.ledger.Ledger>`
runs for each chunk of a batch (and for a single event, as a chunk of one). In order:

1. the keys already stored are read (one query; skipped on the first try of a single event,
   whose repeat then fails on the unique key and is retried with the look-up); an event
   whose key is stored, or repeats an earlier event of the chunk, is a ``duplicate`` (the
   same key for another loan or amount raises :class:`ConflictingEvent` before anything is
   written);
2. the chunk's loans are locked (``FOR UPDATE``, in loan-id order so that two processes never
   deadlock), and the as-of facts, panel months and live promises of those loans read, one
   query each;
3. each new event is applied in order, in memory: panel month, loan state, promises; an event
   for an unknown loan goes to ``suspense``;
4. everything is written in bulk: the events (sorted by key; the unique key
   ``(source, event_id)`` still decides, across processes), suspense rows, panel months, loan
   states, audit rows;
5. each loan the chunk paid is re-scored ONCE, after all its events (:meth:`Scorer.score_many`:
   scores, plan items, alerts with their outbox messages, audit rows), then its case opened,
   escalated or resolved (:func:`~loanrecovery.service.cases.sync_cases`).

All of it commits together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, tuple_, update
from sqlalchemy.orm import Session

from loanrecovery.service.cases import sync_cases
from loanrecovery.service.db.models import AuditRow, Loan, Meta, PanelMonth, PaymentEvent, Suspense
from loanrecovery.service.promises import apply_payment_to_promises, as_utc, live_promises
from loanrecovery.service.scoring import Scorer, panel_rows

__all__ = ["apply_chunk", "PaymentIn", "ConflictingEvent", "PaymentOutcome", "month_for"]

_CENTS = 0.005


class ConflictingEvent(Exception):
    """An ``(source, event_id)`` already recorded for a different loan or amount."""

    def __init__(self, source: str, event_id: str, loan_id: str, amount: float) -> None:
        self.source, self.event_id, self.loan_id, self.amount = source, event_id, loan_id, amount
        super().__init__(
            f"event {event_id!r} from {source!r} was already recorded "
            f"for loan {loan_id} and amount {amount}"
        )


@dataclass(frozen=True)
class PaymentIn:
    """One payment event as received."""

    event_id: str
    loan_id: str
    amount: float
    paid_at: datetime
    source: str = "api"


@dataclass(frozen=True)
class PaymentOutcome:
    """What happened to an event: ``applied``, ``suspense`` or ``duplicate`` (with the
    original outcome in ``original``)."""

    status: str
    payment_id: int
    event_id: str
    source: str
    loan_id: str
    original: str | None = None


@dataclass
class _Month:
    """One panel month held in memory while the chunk is applied."""

    values: list[Any]  # PANEL_ROW order: loan, month, due, paid, dpd, balance
    new: bool = False
    changed: bool = False


@dataclass
class _State:
    """The chunk's loans, panel months and promises, read once."""

    loans: dict[str, Loan]
    panels: dict[str, dict[int, _Month]]
    promises: dict[str, list[Any]]
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
    keys = sorted({(e.source, e.event_id) for e in events})
    rows = session.execute(
        select(
            PaymentEvent.source,
            PaymentEvent.event_id,
            PaymentEvent.id,
            PaymentEvent.loan_id,
            PaymentEvent.amount,
            PaymentEvent.state,
        ).where(tuple_(PaymentEvent.source, PaymentEvent.event_id).in_(keys))
    )
    return {(r.source, r.event_id): r for r in rows}


def _check(event: PaymentIn, loan_id: str, amount: float) -> None:
    if loan_id != event.loan_id or abs(amount - event.amount) > _CENTS:
        raise ConflictingEvent(event.source, event.event_id, loan_id, amount)


def _read(session: Session, loan_ids: list[str]) -> _State:
    loans = {
        loan.loan_id: loan
        for loan in session.scalars(
            select(Loan).where(Loan.loan_id.in_(loan_ids)).order_by(Loan.loan_id).with_for_update()
        )
    }
    known = sorted(loans)
    facts = select(Meta.key, Meta.value).where(Meta.key.in_(["as_of", "anchor"]))
    meta = {key: value for key, value in session.execute(facts)}
    panels = {
        loan_id: {int(r[1]): _Month(list(r)) for r in rows}
        for loan_id, rows in panel_rows(session, known).items()
    }
    return _State(
        loans=loans,
        panels=panels,
        promises=live_promises(session, known),
        as_of=None if meta.get("as_of") is None else int(meta["as_of"]),
        anchor=None if meta.get("anchor") is None else int(meta["anchor"]),
    )


def _audit(state: _State, actor: str, action: str, entity: str, entity_id: Any, before: Any,
           after: Any) -> None:  # fmt: skip
    state.audit.append({"at": datetime.now(UTC), "actor": actor, "action": action,
                        "entity": entity, "entity_id": str(entity_id), "before": before,
                        "after": after})  # fmt: skip


def _apply(
    session: Session, state: _State, payment: PaymentEvent, *, actor: str
) -> tuple[dict[str, Any], int]:
    """Apply one new event to its loan in memory (panel month, loan, promises); returns the
    loan's state before and the panel month, for the audit row."""
    loan = state.loans[payment.loan_id]
    panel = state.panels[loan.loan_id]
    month = month_for(state.as_of, state.anchor, loan.panel_month, payment.paid_at)
    row = panel.get(month)
    if row is None:
        earlier = [m for m in panel if m < month]
        prev = panel[max(earlier)].values if earlier else None
        arrears = 0.0 if prev is None else max(0.0, prev[2] - prev[3])
        row = _Month([loan.loan_id, month, round(loan.emi + arrears, 2), 0.0,
                      float(loan.days_past_due), loan.outstanding], new=True)  # fmt: skip
        panel[month] = row
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
    loan.updated_at = datetime.now(UTC)
    payment.state, payment.applied_at, payment.panel_month = "applied", loan.updated_at, month
    apply_payment_to_promises(session, loan.loan_id, payment.amount, actor=actor,
                              promises=state.promises[loan.loan_id])  # fmt: skip
    return before, month


def _write_panel(session: Session, state: _State) -> None:
    fields = ("loan_id", "month", "amount_due", "amount_paid", "days_past_due",
              "outstanding_balance")  # fmt: skip
    new, changed = [], []
    for months in state.panels.values():
        for row in months.values():
            if row.new:
                new.append(dict(zip(fields, row.values, strict=True)))
            elif row.changed:
                changed.append(dict(zip(fields, row.values, strict=True)))
    if new:
        session.execute(insert(PanelMonth), new)
    if changed:
        session.execute(update(PanelMonth), changed)  # bulk update by primary key


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
    payments: dict[int, PaymentEvent] = {}
    applied: dict[int, tuple[dict[str, Any], int]] = {}
    for i in fresh:
        event = events[i]
        payment = PaymentEvent(source=event.source, event_id=event.event_id, loan_id=event.loan_id,
                               amount=float(event.amount), paid_at=event.paid_at, received_at=now,
                               state="suspense", received_by=user_id)  # fmt: skip
        payments[i] = payment
        if event.loan_id in state.loans:
            applied[i] = _apply(session, state, payment, actor=actor)
    order = sorted(fresh, key=lambda i: (events[i].source, events[i].event_id))
    session.add_all([payments[i] for i in order])
    session.flush()  # the unique key decides here
    for i in fresh:
        payment = payments[i]
        if payment.state == "suspense":
            session.add(Suspense(payment_id=payment.id, loan_id=payment.loan_id, held_at=now))
            _audit(state, actor, "payment.suspense", "payment", payment.id, None,
                   {"loan_id": payment.loan_id, "amount": payment.amount,
                    "source": payment.source, "event_id": payment.event_id})  # fmt: skip
            continue
        loan, (before, month) = state.loans[payment.loan_id], applied[i]
        _audit(state, actor, "payment.applied", "loan", loan.loan_id, before,
               {"outstanding": loan.outstanding, "days_past_due": loan.days_past_due,
                "panel_month": month, "payment_id": payment.id,
                "amount": payment.amount, "source": payment.source,
                "event_id": payment.event_id})  # fmt: skip
    _write_panel(session, state)
    if state.audit:
        session.execute(insert(AuditRow), state.audit)
    paid = [
        state.loans[i] for i in sorted({p.loan_id for p in payments.values()}) if i in state.loans
    ]
    if paid:
        session.flush()  # loan states
        if scorer is not None:
            panels = {
                loan.loan_id: [
                    tuple(m.values) for _, m in sorted(state.panels[loan.loan_id].items())
                ]
                for loan in paid
            }
            scorer.score_many(session, paid, actor=actor, panels=panels)
        sync_cases(session, paid, actor=actor, capacity=capacity)
    return _outcomes(events, stored, first, payments)


def _outcomes(
    events: Sequence[PaymentIn],
    stored: dict[tuple[str, str], Any],
    first: dict[tuple[str, str], int],
    payments: dict[int, PaymentEvent],
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
