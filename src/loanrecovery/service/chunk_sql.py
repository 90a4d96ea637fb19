"""The statements of the payment path, built once and run on the session's connection.

A chunk of payment events (a batch's 500, or a single event) runs about fifteen statements.
Building each statement again per chunk and running it through the ORM cost about three
times what running a statement built once costs on the connection (measured on PostgreSQL:
226 µs of CPU for the ORM panel query built per call, 74 µs for this one; ``benchmarks/
bench_service.py`` shows the server's CPU per event). The lists of loan ids and keys are
expanding parameters, so one compiled form serves every chunk size.

Everything runs in the caller's transaction (``session.connection()``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import BindParameter, Table, bindparam, exists, func, insert, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from loanrecovery.service.db.models import (
    AuditRow,
    Case,
    CollectionAction,
    Loan,
    Meta,
    PanelMonth,
    PaymentEvent,
    PlanItem,
    Promise,
    Score,
    Suspense,
)

__all__ = [
    "run",
    "STORED",
    "LOANS",
    "PANEL",
    "HISTORY",
    "LATEST_SCORES",
    "OPEN_CASES",
    "LIVE_PROMISES",
    "INSERT_PAYMENTS",
    "NEXT_PAYMENT_IDS",
    "INSERT_PAYMENTS_WITH_IDS",
    "insert_payments",
    "INSERT_SUSPENSE",
    "INSERT_PANEL",
    "UPDATE_PANEL",
    "UPDATE_LOANS",
    "INSERT_AUDIT",
    "INSERT_SCORES",
    "RETIRE_PLAN",
    "INSERT_PLAN",
]


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


_payments, _loans, _panel = _table(PaymentEvent), _table(Loan), _table(PanelMonth)
_scores, _plan = _table(Score), _table(PlanItem)
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)

#: The stored events with one of ``sources`` and one of ``event_ids`` (a superset of the
#: chunk's keys, which the caller picks out: a list of 500 ``(source, event_id)`` pairs made
#: PostgreSQL plan 500 index scans, about 40 ms per chunk on the 1,000,000-loan database).
STORED = select(
    _payments.c.source,
    _payments.c.event_id,
    _payments.c.id,
    _payments.c.loan_id,
    _payments.c.amount,
    _payments.c.state,
).where(
    _payments.c.source.in_(bindparam("sources", expanding=True)),
    _payments.c.event_id.in_(bindparam("event_ids", expanding=True)),
)


def _fact(key: str) -> Any:
    return select(Meta.value).where(Meta.key == key).scalar_subquery().label(key)


_live = exists().where(Promise.loan_id == _loans.c.loan_id, Promise.status.in_(["Open", "Partial"]))
_open = exists().where(Case.loan_id == _loans.c.loan_id, Case.is_open)

#: The chunk's loans, locked in loan-id order (two processes never deadlock), each row with
#: whether it has live promises and an open case (most paying loans have neither, and then
#: neither is read), and the stored book's as-of facts (``as_of``, ``anchor``): one round trip.
LOANS = (
    select(
        _loans.c.loan_id,
        _loans.c.borrower_id,
        _loans.c.data,
        _loans.c.outstanding,
        _loans.c.days_past_due,
        _loans.c.panel_month,
        _loans.c.emi,
        _loans.c.updated_at,
        _live.label("has_promises"),
        _open.label("has_case"),
        _fact("as_of"),
        _fact("anchor"),
    )
    .where(_loans.c.loan_id.in_(_IDS))
    .order_by(_loans.c.loan_id)
    .with_for_update(of=_loans)
)

#: Panel rows (:data:`~loanrecovery.contract.trusted.PANEL_ROW` order) of ``ids``.
PANEL = (
    select(
        _panel.c.loan_id,
        _panel.c.month,
        _panel.c.amount_due,
        _panel.c.amount_paid,
        _panel.c.days_past_due,
        _panel.c.outstanding_balance,
    )
    .where(_panel.c.loan_id.in_(_IDS))
    .order_by(_panel.c.loan_id, _panel.c.month)
)

#: Collection actions (:data:`~loanrecovery.contract.trusted.HISTORY_ROW` order) of ``ids``.
HISTORY = (
    select(
        CollectionAction.loan_id,
        CollectionAction.month,
        CollectionAction.action,
        CollectionAction.cost,
        CollectionAction.recovered_amount,
    )
    .where(CollectionAction.loan_id.in_(_IDS))
    .order_by(CollectionAction.id)
)

#: The newest score of each of ``ids`` (the columns an alert and the audit compare).
LATEST_SCORES = select(
    _scores.c.loan_id,
    _scores.c.bundle_id,
    _scores.c.status,
    _scores.c.segment,
    _scores.c.pd_6m,
    _scores.c.risk_band,
    _scores.c.recommended_action,
    _scores.c.on_watchlist,
).where(
    _scores.c.id.in_(
        select(func.max(_scores.c.id))
        .where(_scores.c.loan_id.in_(_IDS))
        .group_by(_scores.c.loan_id)
        .scalar_subquery()
    )
)

#: The open cases of ``ids`` (ORM objects: a payment may change them).
OPEN_CASES = select(Case).where(Case.loan_id.in_(_IDS), Case.is_open)

#: The live promises of ``ids``, oldest date first (ORM objects: a payment may keep them).
LIVE_PROMISES = (
    select(Promise)
    .where(Promise.loan_id.in_(_IDS), Promise.status.in_(["Open", "Partial"]))
    .order_by(Promise.promised_date, Promise.id)
)

INSERT_PAYMENTS = insert(_payments).returning(_payments.c.id, sort_by_parameter_order=True)
#: PostgreSQL: ``n`` new event ids from the table's sequence, in order. A many-row insert
#: returning its ids is one statement with ten parameters per row, which psycopg parses
#: again on every chunk (it caches statements of at most 50 parameters): 0.098 ms per event
#: on the 1,000,000-loan database. Ids taken first, the rows go in by ``executemany``.
NEXT_PAYMENT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('payment_events', 'id')) "
    "FROM generate_series(1, :n) ORDER BY 1"
)
INSERT_PAYMENTS_WITH_IDS = insert(_payments)
INSERT_SUSPENSE = insert(_table(Suspense))
INSERT_PANEL = insert(_panel)
#: Parameters: ``b_loan_id``, ``b_month`` and the columns to set.
UPDATE_PANEL = update(_panel).where(
    _panel.c.loan_id == bindparam("b_loan_id"), _panel.c.month == bindparam("b_month")
)
#: Parameters: ``b_loan_id`` and the columns to set.
UPDATE_LOANS = update(_loans).where(_loans.c.loan_id == bindparam("b_loan_id"))
INSERT_AUDIT = insert(_table(AuditRow))
INSERT_SCORES = insert(_scores)
RETIRE_PLAN = update(_plan).where(_plan.c.loan_id.in_(_IDS), _plan.c.current).values(current=False)
INSERT_PLAN = insert(_plan)


def run(
    session: Session,
    statement: Executable,
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
) -> Any:
    """Run a Core ``statement`` on the session's connection, in its transaction; an empty
    list of parameter sets runs nothing (returns None)."""
    if isinstance(params, Sequence) and not params:
        return None
    return session.connection().execute(statement, params)


def insert_payments(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert new payment events (``rows``, in order) and return their ids, in order."""
    if not rows:
        return []
    if session.get_bind().dialect.name != "postgresql":
        return list(run(session, INSERT_PAYMENTS, rows).scalars())
    ids = [int(i) for i in run(session, NEXT_PAYMENT_IDS, {"n": len(rows)}).scalars()]
    run(session, INSERT_PAYMENTS_WITH_IDS, [{**r, "id": i} for r, i in zip(rows, ids, strict=True)])
    return ids
