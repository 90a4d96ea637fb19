"""Rows to response bodies (shared by the routers)."""

from __future__ import annotations

from loanrecovery.service.db.models import Activity, Case, PaymentEvent, Promise
from loanrecovery.service.promises import as_utc
from loanrecovery.service.schemas import ActivityOut, CaseOut, PaymentOut, PromiseOut

__all__ = ["case_out", "promise_out", "activity_out", "payment_out"]


def case_out(case: Case) -> CaseOut:
    """A case as the API shows it."""
    return CaseOut(
        case_id=case.id,
        loan_id=case.loan_id,
        status=case.status,
        bucket=case.bucket,
        days_past_due=case.days_past_due,
        priority=case.priority,
        assigned_to=case.assigned_to,
        opened_at=as_utc(case.opened_at),
        closed_at=None if case.closed_at is None else as_utc(case.closed_at),
    )


def promise_out(promise: Promise) -> PromiseOut:
    """A promise as the API shows it."""
    return PromiseOut(
        promise_id=promise.id,
        case_id=promise.case_id,
        promised_date=as_utc(promise.promised_date).date(),
        amount=promise.amount,
        paid=promise.paid,
        status=promise.status,  # type: ignore[arg-type]
        created_at=as_utc(promise.created_at),
    )


def activity_out(activity: Activity) -> ActivityOut:
    """An activity as the API shows it."""
    return ActivityOut(
        activity_id=activity.id,
        case_id=activity.case_id,
        user_id=activity.user_id,
        channel=activity.channel,
        outcome=activity.outcome,
        note=activity.note,
        created_at=as_utc(activity.created_at),
    )


def payment_out(payment: PaymentEvent) -> PaymentOut:
    """A payment event as the API shows it."""
    return PaymentOut(
        payment_id=payment.id,
        event_id=payment.event_id,
        source=payment.source,
        loan_id=payment.loan_id,
        amount=payment.amount,
        paid_at=as_utc(payment.paid_at),
        received_at=as_utc(payment.received_at),
        state=payment.state,
        panel_month=payment.panel_month,
    )
