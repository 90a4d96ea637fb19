"""``/loans/{loan_id}`` and ``/watchlist``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from sqlalchemy import func, select

from loanrecovery.service.api.access import check_loan_access
from loanrecovery.service.api.views import activity_out, case_out, promise_out
from loanrecovery.service.db.models import Activity, Case, Loan, Promise, Score, User
from loanrecovery.service.deps import DbSession, require
from loanrecovery.service.promises import as_utc
from loanrecovery.service.schemas import LoanOut, WatchlistItem
from loanrecovery.service.scoring import latest_score

__all__ = ["router"]

router = APIRouter(tags=["loans"])


@router.get("/loans/{loan_id}", response_model=LoanOut, responses={404: {}})
def get_loan(
    db: DbSession,
    user: Annotated[User, Depends(require("loans.read"))],
    loan_id: Annotated[str, Path(min_length=1, max_length=64)],
) -> LoanOut:
    """A loan's state, newest score with its reasons and action, open case, promises and the
    last 20 activities."""
    check_loan_access(db, user, loan_id)
    loan = db.get(Loan, loan_id)
    if loan is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"loan {loan_id!r} not found")
    score = latest_score(db, loan_id)
    case = db.scalar(select(Case).where(Case.loan_id == loan_id, Case.is_open))
    promises = db.scalars(
        select(Promise).where(Promise.loan_id == loan_id).order_by(Promise.id.desc()).limit(50)
    ).all()
    activities = db.scalars(
        select(Activity)
        .join(Case, Case.id == Activity.case_id)
        .where(Case.loan_id == loan_id)
        .order_by(Activity.id.desc())
        .limit(20)
    ).all()
    return LoanOut(
        loan_id=loan.loan_id,
        status=None if score is None else score.status,
        outstanding=loan.outstanding,
        days_past_due=loan.days_past_due,
        panel_month=loan.panel_month,
        segment=None if score is None else score.segment,
        pd_3m=None if score is None else score.pd_3m,
        pd_6m=None if score is None else score.pd_6m,
        pd_12m=None if score is None else score.pd_12m,
        risk_band=None if score is None else score.risk_band,
        reasons=[] if score is None else [str(r) for r in score.reasons],
        recommended_action=None if score is None else score.recommended_action,
        action_why=None if score is None else score.action_why,
        expected_gain=None if score is None else score.expected_gain,
        on_watchlist=None if score is None else score.on_watchlist,
        bundle_id=None if score is None else score.bundle_id,
        scored_at=None if score is None else as_utc(score.scored_at),
        case=None if case is None else case_out(case),
        promises=[promise_out(p) for p in promises],
        activities=[activity_out(a) for a in activities],
    )


@router.get("/watchlist", response_model=list[WatchlistItem])
def watchlist(
    db: DbSession,
    _user: Annotated[User, Depends(require("watchlist.read"))],
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[WatchlistItem]:
    """Loans whose newest score puts them on the watchlist, riskiest (PD 6 months) first."""
    newest = select(func.max(Score.id).label("id")).group_by(Score.loan_id).subquery("newest")
    rows = db.execute(
        select(Score, Loan.outstanding, Loan.days_past_due)
        .join(newest, newest.c.id == Score.id)
        .join(Loan, Loan.loan_id == Score.loan_id)
        .where(Score.on_watchlist)
        .order_by(Score.pd_6m.desc(), Score.loan_id)
        .limit(limit)
    ).all()
    return [
        WatchlistItem(
            loan_id=s.loan_id,
            pd_6m=s.pd_6m,
            pd_12m=s.pd_12m,
            risk_band=s.risk_band,
            segment=s.segment,
            recommended_action=s.recommended_action,
            outstanding=outstanding,
            days_past_due=dpd,
            scored_at=as_utc(s.scored_at),
        )
        for s, outstanding, dpd in rows
    ]
