"""``/queue`` and ``/cases/{id}/…``: the caller's cases, contacts, promises, assignment."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from loanrecovery.service import audit, casework
from loanrecovery.service.api.access import check_case_access
from loanrecovery.service.api.errors import invalid
from loanrecovery.service.api.views import activity_out, case_out, promise_out
from loanrecovery.service.db.models import Case, Loan, PlanItem, User
from loanrecovery.service.deps import DbSession, WriteSession, require
from loanrecovery.service.schemas import (
    ActivityCreate,
    ActivityOut,
    AssignIn,
    CaseOut,
    PromiseCreate,
    PromiseOut,
    QueueItem,
)

__all__ = ["router"]

router = APIRouter(tags=["cases"])
CaseId = Annotated[int, Path(ge=1, le=2**62)]
_MISSING: dict[int | str, dict[str, Any]] = {404: {"description": "no such case"}}


def _open_case(db: Session, case_id: int, user: User) -> Case:
    case = db.get(Case, case_id, with_for_update=True)
    if case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"case {case_id} not found")
    check_case_access(user, case)
    if not case.is_open:
        raise HTTPException(status.HTTP_409_CONFLICT, f"case {case_id} is {case.status}")
    return case


@router.get("/queue", response_model=list[QueueItem])
def queue(
    db: DbSession,
    user: Annotated[User, Depends(require("queue.read"))],
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[QueueItem]:
    """The caller's open cases, highest plan priority first."""
    rows = db.execute(  # the columns the queue shows, not whole case objects
        select(
            Case.id, Case.loan_id, Case.status, Case.bucket, Case.days_past_due, Case.priority,
            Loan.outstanding, PlanItem.action,
        )
        .join(Loan, Loan.loan_id == Case.loan_id)
        .outerjoin(PlanItem, (PlanItem.loan_id == Case.loan_id) & PlanItem.current)
        .where(Case.is_open, Case.assigned_to == user.id)
        .order_by(Case.priority.desc(), Case.id)
        .limit(limit)
    ).all()  # fmt: skip
    return [
        QueueItem(
            case_id=case_id,
            loan_id=loan_id,
            status=status,
            bucket=bucket,
            days_past_due=dpd,
            priority=priority,
            outstanding=outstanding,
            recommended_action=action,
        )
        for case_id, loan_id, status, bucket, dpd, priority, outstanding, action in rows
    ]


@router.post(
    "/cases/{case_id}/activities",
    response_model=ActivityOut,
    status_code=201,
    responses={**_MISSING, 409: {"description": "case closed"}},
)
def add_activity(
    case_id: CaseId,
    body: ActivityCreate,
    db: WriteSession,
    user: Annotated[User, Depends(require("cases.work"))],
) -> ActivityOut:
    """Log a contact and its outcome on a case."""
    with db.begin():
        case = _open_case(db, case_id, user)
        activity = casework.log_activity(
            db, case, user, channel=body.channel, outcome=body.outcome, note=body.note
        )
        out = activity_out(activity)
    return out


@router.post(
    "/cases/{case_id}/promises",
    response_model=PromiseOut,
    status_code=201,
    responses={**_MISSING, 409: {"description": "case closed"}},
)
def add_promise(
    case_id: CaseId,
    body: PromiseCreate,
    db: WriteSession,
    user: Annotated[User, Depends(require("cases.work"))],
) -> PromiseOut:
    """Record a promise to pay on a case: the date today or within the policy's limit
    (``casework.PROMISE_MAX_DAYS``), the amount above 0 and at most the balance."""
    with db.begin():
        case = _open_case(db, case_id, user)
        loan = db.get(Loan, case.loan_id)
        try:
            promise = casework.record_promise(
                db, case, user, promised_date=body.promised_date, amount=body.amount,
                balance=None if loan is None else loan.outstanding,
            )  # fmt: skip
        except casework.CaseRuleError as exc:
            raise invalid("body", exc.field, message=exc.message) from exc
        out = promise_out(promise)
    return out


@router.post(
    "/cases/{case_id}/assign",
    response_model=CaseOut,
    responses={**_MISSING, 409: {"description": "case closed"}},
)
def assign(
    case_id: CaseId,
    body: AssignIn,
    db: WriteSession,
    user: Annotated[User, Depends(require("cases.assign"))],
) -> CaseOut:
    """Give a case to a collector (managers)."""
    with db.begin():
        case = _open_case(db, case_id, user)
        target = db.get(User, body.user_id)
        if target is None or target.role != "collector" or not target.active:
            raise invalid(
                "body", "user_id", message=f"user_id {body.user_id} is not an active collector"
            )
        before = case.assigned_to
        case.assigned_to = target.id
        audit.record(
            db, actor=user.name, action="case.assigned", entity="case", entity_id=case.id,
            before={"assigned_to": before}, after={"assigned_to": target.id, "rule": "manual"},
        )  # fmt: skip
        out = case_out(case)
    return out
