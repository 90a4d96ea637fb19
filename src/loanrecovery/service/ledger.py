"""Payment events: recorded once per ``(source, event_id)`` and applied with all their effects
(loan state, panel month, promises, score, alerts, case, audit) in one transaction.

The unique key on ``(source, event_id)`` is what makes ingestion idempotent, across threads
and across server processes: a second insert of the same key fails (on PostgreSQL it waits
for the first transaction and fails when it commits), and the caller answers with the
original result.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from loanrecovery.service import audit
from loanrecovery.service.cases import sync_case
from loanrecovery.service.db.models import Loan, Meta, PanelMonth, PaymentEvent, Suspense
from loanrecovery.service.events import ConflictingEvent, PaymentIn, PaymentOutcome
from loanrecovery.service.group_commit import GroupCommit
from loanrecovery.service.intake import apply_chunk, month_for
from loanrecovery.service.promises import apply_payment_to_promises, as_utc
from loanrecovery.service.scoring import Scorer

__all__ = [
    "PaymentIn",
    "PaymentOutcome",
    "Ledger",
    "calendar_month",
    "ConflictingEvent",
    "CHUNK",
]

logger = logging.getLogger(__name__)
_CENTS = 0.005
#: Events per transaction of a batch.
CHUNK = 500
_ATTEMPTS = 4


def calendar_month(moment: datetime) -> int:
    """A calendar month as one integer (year * 12 + month - 1), as 'YYYY-MM' maps in the
    contract."""
    moment = as_utc(moment)
    return moment.year * 12 + moment.month - 1


def _meta_int(session: Session, key: str) -> int | None:
    value = session.scalar(select(Meta.value).where(Meta.key == key))
    return None if value is None else int(value)


def panel_month_for(session: Session, loan: Loan, paid_at: datetime) -> int:
    """The panel month a payment counts in: the book's as-of month plus the calendar months
    since the book was imported (``anchor``), never before the loan's latest panel month."""
    return month_for(
        _meta_int(session, "as_of"), _meta_int(session, "anchor"), loan.panel_month, paid_at
    )


class Ledger:
    """Ingests payment events.

    Parameters
    ----------
    factory : sessionmaker
        Sessions on the service's database.
    scorer : Scorer, optional
        Re-scores the loan after each payment; None when no bundle is loaded.
    capacity : int
        Default open cases per collector (for cases opened by a payment).
    reader : sessionmaker, optional
        Read-only sessions (looking up repeats without taking SQLite's write lock).
    on_commit : callable, optional
        Called with the number of single events each shared transaction applied
        (:meth:`submit_async`), e.g. a metric.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        scorer: Scorer | None,
        capacity: int,
        reader: sessionmaker[Session] | None = None,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        self.factory = factory
        self.reader = reader or factory
        self.scorer = scorer
        self.capacity = capacity
        self._group = GroupCommit(self._shared_chunk, max_events=CHUNK, on_commit=on_commit)

    async def submit_async(
        self, event: PaymentIn, *, actor: str, user_id: int | None
    ) -> PaymentOutcome:
        """Record and apply one event with the single events that arrive beside it: they share
        a transaction (:class:`~loanrecovery.service.group_commit.GroupCommit`), each with all
        its effects, each answered after its commit. The request waits on the event loop while
        the transaction runs in the group commit's writer thread.

        Raises
        ------
        ConflictingEvent
            If the key was used before for another loan or amount.
        """
        return await self._group.submit_async(event, actor=actor, user_id=user_id)

    def _shared_chunk(
        self, events: Sequence[PaymentIn], actor: str, user_id: int | None
    ) -> list[PaymentOutcome]:
        return self._chunk(events, actor=actor, user_id=user_id)

    def ingest_many(
        self,
        events: Sequence[PaymentIn],
        *,
        actor: str,
        user_id: int | None,
        chunk: int = CHUNK,
    ) -> list[PaymentOutcome]:
        """Record and apply ``events`` in order, ``chunk`` events per transaction (each with
        all its effects, each paid loan re-scored once: :func:`~loanrecovery.service.intake.
        apply_chunk`); one outcome per event, in order.

        Raises
        ------
        ConflictingEvent
            A key used before for another loan or amount: the chunks before it are
            committed (their events are answered as duplicates when the batch is sent
            again), its own chunk is not.
        """
        out: list[PaymentOutcome] = []
        for start in range(0, len(events), chunk):
            out.extend(self._chunk(events[start : start + chunk], actor=actor, user_id=user_id))
        return out

    def _chunk(
        self, events: Sequence[PaymentIn], *, actor: str, user_id: int | None
    ) -> list[PaymentOutcome]:
        """One chunk in one transaction. A single event first goes straight to the insert (a
        repeat fails on the unique key); a chunk looks its keys up first. When a key was
        stored meanwhile by another transaction, the chunk is rolled back and tried again,
        looking its keys up."""
        look_up = len(events) > 1
        for attempt in range(_ATTEMPTS):
            try:
                with self.factory() as session, session.begin():
                    return apply_chunk(
                        session, events, actor=actor, user_id=user_id, scorer=self.scorer,
                        capacity=self.capacity, look_up=look_up,
                    )  # fmt: skip
            except IntegrityError:
                if attempt == _ATTEMPTS - 1:
                    raise
                look_up = True
        raise AssertionError("unreachable")  # pragma: no cover

    def apply(self, session: Session, payment: PaymentEvent, loan: Loan, *, actor: str) -> None:
        """Apply a recorded payment to its loan with every effect, in the caller's transaction."""
        month = panel_month_for(session, loan, payment.paid_at)
        row = session.get(PanelMonth, (loan.loan_id, month))
        if row is None:
            row = self.new_month(session, loan, month)
        before = {
            "outstanding": loan.outstanding,
            "days_past_due": loan.days_past_due,
            "panel_month": loan.panel_month,
        }
        row.amount_paid = round(row.amount_paid + payment.amount, 2)
        loan.outstanding = round(max(0.0, loan.outstanding - payment.amount), 2)
        row.outstanding_balance = loan.outstanding
        if row.amount_paid >= row.amount_due - _CENTS or loan.outstanding <= _CENTS:
            row.days_past_due = 0.0
        if loan.panel_month is None or month >= loan.panel_month:
            loan.days_past_due = int(row.days_past_due)
            loan.panel_month = month
        loan.updated_at = datetime.now(UTC)
        payment.state, payment.applied_at, payment.panel_month = "applied", loan.updated_at, month
        audit.record(
            session, actor=actor, action="payment.applied", entity="loan", entity_id=loan.loan_id,
            before=before,
            after={"outstanding": loan.outstanding, "days_past_due": loan.days_past_due,
                   "panel_month": month, "payment_id": payment.id, "amount": payment.amount,
                   "source": payment.source, "event_id": payment.event_id},
        )  # fmt: skip
        apply_payment_to_promises(session, loan.loan_id, payment.amount, actor=actor)
        if self.scorer is not None:
            self.scorer.score(session, loan, actor=actor)
        sync_case(session, loan, actor=actor, capacity=self.capacity)

    @staticmethod
    def new_month(session: Session, loan: Loan, month: int) -> PanelMonth:
        """Open a panel month: the instalment plus what the previous month left unpaid; days
        past due carried until the month is paid (ageing is the monthly refresh's job)."""
        prev = session.scalar(
            select(PanelMonth)
            .where(PanelMonth.loan_id == loan.loan_id, PanelMonth.month < month)
            .order_by(PanelMonth.month.desc())
            .limit(1)
        )
        arrears = 0.0 if prev is None else max(0.0, prev.amount_due - prev.amount_paid)
        row = PanelMonth(
            loan_id=loan.loan_id,
            month=month,
            amount_due=round(loan.emi + arrears, 2),
            amount_paid=0.0,
            days_past_due=float(loan.days_past_due),
            outstanding_balance=loan.outstanding,
        )
        session.add(row)
        return row

    def release_suspense(self, *, actor: str) -> int:
        """Apply every held payment whose loan has arrived, each in its own transaction;
        returns how many were applied."""
        with self.factory() as session:
            held = (
                session.execute(
                    select(Suspense.payment_id)
                    .join(Loan, Loan.loan_id == Suspense.loan_id)
                    .where(Suspense.released_at.is_(None))
                    .order_by(Suspense.payment_id)
                )
                .scalars()
                .all()
            )
        done = 0
        for payment_id in held:
            with self.factory() as session, session.begin():
                entry = session.get(Suspense, payment_id, with_for_update=True)
                if entry is None or entry.released_at is not None:
                    continue
                payment = session.get(PaymentEvent, payment_id)
                loan = session.get(Loan, entry.loan_id, with_for_update=True)
                if payment is None or loan is None:
                    continue
                self.apply(session, payment, loan, actor=actor)
                entry.released_at = datetime.now(UTC)
                done += 1
        if done:
            logger.info("applied %d payments held in suspense", done)
        return done
