"""Payment events: recorded once per ``(source, event_id)`` and applied with all their effects
(loan state, panel month, promises, score, alerts, case, audit) in one transaction.

The unique key on ``(source, event_id)`` is what makes ingestion idempotent, across threads
and across server processes: a second insert of the same key fails (on PostgreSQL it waits
for the first transaction and fails when it commits), and the caller answers with the
original result.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from loanrecovery.service import audit
from loanrecovery.service.cases import sync_case
from loanrecovery.service.db.models import Loan, Meta, PanelMonth, PaymentEvent, Suspense
from loanrecovery.service.promises import apply_payment_to_promises, as_utc
from loanrecovery.service.scoring import Scorer

__all__ = ["PaymentIn", "PaymentOutcome", "Ledger", "calendar_month", "ConflictingEvent"]

logger = logging.getLogger(__name__)
_CENTS = 0.005


class ConflictingEvent(Exception):
    """An ``(source, event_id)`` already recorded for a different loan or amount."""

    def __init__(self, existing: PaymentEvent) -> None:
        self.existing = existing
        super().__init__(
            f"event {existing.event_id!r} from {existing.source!r} was already recorded "
            f"for loan {existing.loan_id} and amount {existing.amount}"
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
    as_of = _meta_int(session, "as_of")
    anchor = _meta_int(session, "anchor")
    latest = loan.panel_month
    if as_of is None or anchor is None:
        return latest if latest is not None else calendar_month(paid_at)
    month = as_of + (calendar_month(paid_at) - anchor)
    return max(month, latest) if latest is not None else month


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
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        scorer: Scorer | None,
        capacity: int,
        reader: sessionmaker[Session] | None = None,
    ) -> None:
        self.factory = factory
        self.reader = reader or factory
        self.scorer = scorer
        self.capacity = capacity

    def ingest(self, event: PaymentIn, *, actor: str, user_id: int | None) -> PaymentOutcome:
        """Record and apply one event in its own transaction (see the module docstring).

        Raises
        ------
        ConflictingEvent
            If the key was used before for another loan or amount.
        """
        existing = self._find(event)
        if existing is not None:
            return self._duplicate(existing, event)
        try:
            with self.factory() as session, session.begin():
                return self._record(session, event, actor=actor, user_id=user_id)
        except IntegrityError:
            existing = self._find(event)
            if existing is None:
                raise
            return self._duplicate(existing, event)

    def _find(self, event: PaymentIn) -> PaymentEvent | None:
        with self.reader() as session:
            return session.scalar(
                select(PaymentEvent).where(
                    PaymentEvent.source == event.source, PaymentEvent.event_id == event.event_id
                )
            )

    @staticmethod
    def _duplicate(existing: PaymentEvent, event: PaymentIn) -> PaymentOutcome:
        if existing.loan_id != event.loan_id or abs(existing.amount - event.amount) > _CENTS:
            raise ConflictingEvent(existing)
        return PaymentOutcome(
            status="duplicate",
            payment_id=existing.id,
            event_id=existing.event_id,
            source=existing.source,
            loan_id=existing.loan_id,
            original=existing.state,
        )

    def _record(
        self, session: Session, event: PaymentIn, *, actor: str, user_id: int | None
    ) -> PaymentOutcome:
        now = datetime.now(UTC)
        payment = PaymentEvent(
            source=event.source,
            event_id=event.event_id,
            loan_id=event.loan_id,
            amount=float(event.amount),
            paid_at=as_utc(event.paid_at),
            received_at=now,
            state="received",
            received_by=user_id,
        )
        session.add(payment)
        session.flush()  # the unique key is checked here
        loan = session.get(Loan, event.loan_id, with_for_update=True)
        if loan is None:
            payment.state = "suspense"
            session.add(Suspense(payment_id=payment.id, loan_id=event.loan_id, held_at=now))
            audit.record(
                session, actor=actor, action="payment.suspense", entity="payment",
                entity_id=payment.id,
                after={"loan_id": event.loan_id, "amount": payment.amount, "source": event.source,
                       "event_id": event.event_id},
            )  # fmt: skip
            return PaymentOutcome(
                "suspense", payment.id, event.event_id, event.source, event.loan_id
            )
        self.apply(session, payment, loan, actor=actor)
        return PaymentOutcome("applied", payment.id, event.event_id, event.source, event.loan_id)

    def apply(self, session: Session, payment: PaymentEvent, loan: Loan, *, actor: str) -> None:
        """Apply a recorded payment to its loan with every effect, in the caller's transaction."""
        month = panel_month_for(session, loan, payment.paid_at)
        row = session.get(PanelMonth, (loan.loan_id, month))
        if row is None:
            row = self._new_month(session, loan, month)
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
    def _new_month(session: Session, loan: Loan, month: int) -> PanelMonth:
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
