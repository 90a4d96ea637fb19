"""``/queue`` and ``/cases/{id}/…``: the caller's cases, contacts, promises, assignment."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from loanrecovery.service import audit
from loanrecovery.service.api.access import check_case_access
from loanrecovery.service.api.errors import invalid
from loanrecovery.service.api.views import activity_out, case_out, promise_out
from loanrecovery.service.db.models import Activity, Case, Loan, PlanItem, Promise, User
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
    rows = db.execute(
        select(Case, Loan.outstanding, PlanItem.action)
        .join(Loan, Loan.loan_id == Case.loan_id)
        .outerjoin(PlanItem, (PlanItem.loan_id == Case.loan_id) & PlanItem.current)
        .where(Case.is_open, Case.assigned_to == user.id)
        .order_by(Case.priority.desc(), Case.id)
        .limit(limit)
    ).all()
    return [
        QueueItem(
            case_id=c.id,
            loan_id=c.loan_id,
            status=c.status,
            bucket=c.bucket,
            days_past_due=c.days_past_due,
            priority=c.priority,
            outstanding=outstanding,
            recommended_action=action,
        )
        for c, outstanding, action in rows
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
        activity = Activity(
            case_id=case.id,
            user_id=user.id,
            channel=body.channel,
            outcome=body.outcome,
            note=body.note,
            created_at=datetime.now(UTC),
        )
        db.add(activity)
        before = case.status
        if case.status == "Open":
            case.status = "In Progress"
        db.flush()
        audit.record(
            db, actor=user.name, action="activity.logged", entity="case", entity_id=case.id,
            before={"status": before},
            after={"status": case.status, "activity_id": activity.id, "channel": body.channel,
                   "outcome": body.outcome},
        )  # fmt: skip
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
    """Record a promise to pay on a case (the date may not be in the past)."""
    today = datetime.now(UTC).date()
    if body.promised_date < today:
        raise invalid(
            "body", "promised_date",
            message=f"promised_date {body.promised_date.isoformat()} is in the past "
            f"(today {today})",
        )  # fmt: skip
    with db.begin():
        case = _open_case(db, case_id, user)
        promise = Promise(
            case_id=case.id,
            loan_id=case.loan_id,
            promised_date=datetime.combine(body.promised_date, time(0, 0), tzinfo=UTC),
            amount=round(body.amount, 2),
            paid=0.0,
            status="Open",
            created_by=user.id,
            created_at=datetime.now(UTC),
        )
        db.add(promise)
        before = case.status
        case.status = "Promise to Pay"
        db.flush()
        audit.record(
            db, actor=user.name, action="promise.created", entity="promise",
            entity_id=promise.id, before={"case_status": before},
            after={"case_id": case.id, "amount": promise.amount,
                   "promised_date": body.promised_date.isoformat(), "status": "Open"},
        )  # fmt: skip
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
