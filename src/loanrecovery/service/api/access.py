"""Row-level access: collectors see and change only the cases assigned to them."""

from __future__ import annotations

from fastapi import HTTPException, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from loanrecovery.service.db.models import Case, User

__all__ = ["check_case_access", "check_loan_access"]


def check_case_access(user: User, case: Case) -> None:
    """403 unless the user is not a collector or the case is assigned to them."""
    if user.role == "collector" and case.assigned_to != user.id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this case is not assigned to you")


def check_loan_access(db: Session, user: User, loan_id: str) -> None:
    """403 for a collector unless the loan's open case is assigned to them."""
    if user.role != "collector":
        return
    assigned = db.scalar(
        select(Case.id).where(Case.loan_id == loan_id, Case.is_open, Case.assigned_to == user.id)
    )
    if assigned is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this loan is not in your queue")
