"""``/payments``: ingest events (one or a batch), list a loan's payments and the suspense."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Response, status
from sqlalchemy import select

from loanrecovery.service.api.errors import invalid
from loanrecovery.service.api.views import payment_out
from loanrecovery.service.db.models import PaymentEvent, Suspense, User
from loanrecovery.service.deps import DbSession, ServicesDep, require
from loanrecovery.service.ledger import ConflictingEvent, PaymentIn, PaymentOutcome
from loanrecovery.service.promises import as_utc
from loanrecovery.service.schemas import PaymentCreate, PaymentOut, PaymentResult, SuspenseOut

__all__ = ["router"]

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/payments", tags=["payments"])

_CODES = {"applied": status.HTTP_201_CREATED, "duplicate": 200, "suspense": 202}
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "event id already used for another loan or amount"}
}


def _result(outcome: PaymentOutcome) -> PaymentResult:
    return PaymentResult(
        status=outcome.status,  # type: ignore[arg-type]
        payment_id=outcome.payment_id,
        event_id=outcome.event_id,
        source=outcome.source,
        loan_id=outcome.loan_id,
        original_status=outcome.original,  # type: ignore[arg-type]
    )


def _event(body: PaymentCreate) -> PaymentIn:
    return PaymentIn(
        event_id=body.event_id,
        loan_id=body.loan_id,
        amount=body.amount,
        paid_at=as_utc(body.paid_at),
        source=body.source,
    )


def _answered(services: ServicesDep, outcomes: list[PaymentOutcome]) -> list[PaymentResult]:
    for outcome in outcomes:
        services.metrics.events.labels(outcome.status).inc()
    return [_result(outcome) for outcome in outcomes]


@router.post(
    "",
    response_model=PaymentResult,
    status_code=201,
    responses={
        200: {"model": PaymentResult, "description": "a repeat of an event already received"},
        202: {"model": PaymentResult, "description": "loan unknown: held in suspense"},
        **_CONFLICT,
    },
)
async def post_payment(
    body: PaymentCreate,
    response: Response,
    services: ServicesDep,
    user: Annotated[User, Depends(require("payments.write"))],
) -> PaymentResult:
    """Record a payment event and apply it (idempotent on ``(source, event_id)``). The
    request waits on the event loop, not in a worker thread, while the events that arrived
    together are applied in one shared transaction (group commit)."""
    try:
        outcome = await services.ledger.submit_async(_event(body), actor=user.name, user_id=user.id)
    except ConflictingEvent as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    result = _answered(services, [outcome])[0]
    response.status_code = _CODES[result.status]
    return result


@router.post("/batch", response_model=list[PaymentResult], responses=_CONFLICT)
def post_batch(
    body: Annotated[list[PaymentCreate], Body(max_length=10_000)],
    services: ServicesDep,
    user: Annotated[User, Depends(require("payments.write"))],
) -> list[PaymentResult]:
    """Record up to 10,000 events; one result per event, in order. Events are applied in
    chunks of up to 500, each chunk one transaction with all its effects (each loan it pays
    re-scored once), so a failure part-way leaves the earlier chunks recorded: sent again,
    their events are answered as duplicates."""
    if len(body) > services.settings.batch_limit:
        raise invalid(
            "body",
            message=f"batch of {len(body)} events exceeds the limit of "
            f"{services.settings.batch_limit}",
        )
    try:
        outcomes = services.ledger.ingest_many(
            [_event(b) for b in body], actor=user.name, user_id=user.id
        )
    except ConflictingEvent as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return _answered(services, outcomes)


@router.get("", response_model=list[PaymentOut])
def list_payments(
    db: DbSession,
    _user: Annotated[User, Depends(require("payments.read"))],
    loan_id: Annotated[str, Query(min_length=1, max_length=64)],
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[PaymentOut]:
    """A loan's applied payments, oldest first, with their event ids."""
    rows = db.scalars(
        select(PaymentEvent)
        .where(PaymentEvent.loan_id == loan_id, PaymentEvent.state == "applied")
        .order_by(PaymentEvent.id)
        .limit(limit)
    ).all()
    return [payment_out(p) for p in rows]


@router.get("/suspense", response_model=list[SuspenseOut])
def list_suspense(
    db: DbSession,
    _user: Annotated[User, Depends(require("payments.read"))],
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[SuspenseOut]:
    """Payments held because their loan is unknown, oldest first."""
    rows = db.execute(
        select(PaymentEvent, Suspense.held_at)
        .join(Suspense, Suspense.payment_id == PaymentEvent.id)
        .where(Suspense.released_at.is_(None))
        .order_by(PaymentEvent.id)
        .limit(limit)
    ).all()
    return [
        SuspenseOut(
            payment_id=p.id,
            event_id=p.event_id,
            source=p.source,
            loan_id=p.loan_id,
            amount=p.amount,
            paid_at=as_utc(p.paid_at),
            held_at=as_utc(held),
        )
        for p, held in rows
    ]
