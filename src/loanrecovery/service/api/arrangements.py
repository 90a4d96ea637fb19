"""Plans, settlements, hardship reviews and the policy: the endpoints behind the case page
and the manager's console."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from loanrecovery.exceptions import PolicyError
from loanrecovery.service import casework, policies
from loanrecovery.service.api.access import check_case_access
from loanrecovery.service.api.errors import invalid
from loanrecovery.service.db.models import Arrangement, Case, Loan, User
from loanrecovery.service.deps import DbSession, WriteSession, require
from loanrecovery.service.promises import as_utc

__all__ = ["router"]

router = APIRouter(tags=["arrangements"])
CaseId = Annotated[int, Path(ge=1, le=2**62)]
_MISSING: dict[int | str, dict[str, Any]] = {404: {"description": "no such case"},
                                             409: {"description": "case closed"}}  # fmt: skip


class PlanIn(BaseModel):
    """A repayment plan: equal monthly instalments covering the balance."""

    instalments: int = Field(ge=2, le=casework.PLAN_MAX_INSTALMENTS)
    note: str = Field(default="", max_length=2000)


class SettlementIn(BaseModel):
    """Settling the balance for ``amount``."""

    amount: float = Field(gt=0, le=1e12, allow_inf_nan=False)
    note: str = Field(default="", max_length=2000)


class HardshipIn(BaseModel):
    """Why a hardship review is asked for."""

    note: str = Field(min_length=1, max_length=2000)


class DecisionIn(BaseModel):
    """A manager's decision on a Pending settlement."""

    approve: bool


class ArrangementOut(BaseModel):
    """A stored plan, settlement or hardship review."""

    arrangement_id: int
    case_id: int
    loan_id: str
    kind: str
    amount: float | None
    instalments: int | None
    discount: float | None
    status: str
    note: str
    created_by: int | None
    created_at: datetime
    decided_by: int | None
    decided_at: datetime | None


class PolicyIn(BaseModel):
    """A policy's TOML text."""

    text: str = Field(min_length=1, max_length=policies.MAX_POLICY_CHARS)


class PolicyOut(BaseModel):
    """The policy in force (version 0: the built-in one)."""

    version: int
    text: str


def _out(row: Arrangement) -> ArrangementOut:
    return ArrangementOut(
        arrangement_id=row.id, case_id=row.case_id, loan_id=row.loan_id, kind=row.kind,
        amount=row.amount, instalments=row.instalments, discount=row.discount, status=row.status,
        note=row.note, created_by=row.created_by, created_at=as_utc(row.created_at),
        decided_by=row.decided_by,
        decided_at=None if row.decided_at is None else as_utc(row.decided_at),
    )  # fmt: skip


def _case_and_loan(db: Session, case_id: int, user: User) -> tuple[Case, Loan]:
    case = db.get(Case, case_id, with_for_update=True)
    if case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"case {case_id} not found")
    check_case_access(user, case)
    if not case.is_open:
        raise HTTPException(status.HTTP_409_CONFLICT, f"case {case_id} is {case.status}")
    loan = db.get(Loan, case.loan_id)
    assert loan is not None
    return case, loan


Proposer = Annotated[User, Depends(require("arrangements.propose"))]


@router.post("/cases/{case_id}/plans", response_model=ArrangementOut, status_code=201,
             responses=_MISSING)  # fmt: skip
def propose_plan(case_id: CaseId, body: PlanIn, db: WriteSession, user: Proposer) -> ArrangementOut:
    """Propose a repayment plan on a case."""
    with db.begin():
        case, loan = _case_and_loan(db, case_id, user)
        row = casework.propose_plan(db, case, loan, user, instalments=body.instalments,
                                    note=body.note)  # fmt: skip
        out = _out(row)
    return out


@router.post("/cases/{case_id}/settlements", response_model=ArrangementOut, status_code=201,
             responses=_MISSING)  # fmt: skip
def propose_settlement(
    case_id: CaseId, body: SettlementIn, db: WriteSession, user: Proposer
) -> ArrangementOut:
    """Propose a settlement: Approved up to the automatic discount, else Pending a manager."""
    with db.begin():
        case, loan = _case_and_loan(db, case_id, user)
        try:
            row = casework.propose_settlement(db, case, loan, user, amount=body.amount,
                                              note=body.note)  # fmt: skip
        except casework.CaseRuleError as exc:
            raise invalid("body", exc.field, message=exc.message) from exc
        out = _out(row)
    return out


@router.post("/cases/{case_id}/hardship", response_model=ArrangementOut, status_code=201,
             responses=_MISSING)  # fmt: skip
def request_hardship(
    case_id: CaseId, body: HardshipIn, db: WriteSession, user: Proposer
) -> ArrangementOut:
    """Ask for a hardship review of a case."""
    with db.begin():
        case, _ = _case_and_loan(db, case_id, user)
        out = _out(casework.request_hardship(db, case, user, note=body.note))
    return out


@router.get("/arrangements", response_model=list[ArrangementOut])
def list_arrangements(
    db: DbSession,
    _user: Annotated[User, Depends(require("arrangements.read"))],
    status_: Annotated[
        Literal["Proposed", "Pending", "Approved", "Rejected", "Requested"] | None,
        Query(alias="status"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[ArrangementOut]:
    """Plans, settlements and hardship reviews, newest first."""
    query = select(Arrangement).order_by(Arrangement.id.desc()).limit(limit)
    if status_ is not None:
        query = query.where(Arrangement.status == status_)
    return [_out(row) for row in db.scalars(query)]


@router.post("/settlements/{arrangement_id}/decision", response_model=ArrangementOut,
             responses={404: {"description": "no such arrangement"},
                        409: {"description": "not a Pending settlement"}})  # fmt: skip
def decide(
    arrangement_id: Annotated[int, Path(ge=1, le=2**62)],
    body: DecisionIn,
    db: WriteSession,
    user: Annotated[User, Depends(require("settlements.decide"))],
) -> ArrangementOut:
    """Approve or reject a Pending settlement (managers)."""
    with db.begin():
        row = db.get(Arrangement, arrangement_id, with_for_update=True)
        if row is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"arrangement {arrangement_id} not found"
            )
        try:
            casework.decide_settlement(db, row, user, approve=body.approve)
        except casework.CaseRuleError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, exc.message) from exc
        out = _out(row)
    return out


@router.get("/policy", response_model=PolicyOut)
def read_policy(
    db: DbSession, _user: Annotated[User, Depends(require("policy.read"))]
) -> PolicyOut:
    """The strategy policy in force."""
    version, text = policies.current_policy(db)
    return PolicyOut(version=version, text=text)


@router.put("/policy", response_model=PolicyOut)
def write_policy(
    body: PolicyIn, db: WriteSession, user: Annotated[User, Depends(require("policy.write"))]
) -> PolicyOut:
    """Validate and save a new policy version (422 naming the line when invalid)."""
    try:
        with db.begin():
            row = policies.save_policy(db, body.text, actor=user.name)
            out = PolicyOut(version=row.version, text=row.text)
    except PolicyError as exc:
        raise invalid("body", "text", message=str(exc)) from exc
    return out
