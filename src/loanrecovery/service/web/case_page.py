"""``/cases/{id}``: one case, and its actions (log a call, with a promise to pay; a promise;
a repayment plan; a settlement; a hardship review). Collectors open only their own cases.
Each action is one transaction with its audit rows (``service.casework``, as the API);
a refused action writes nothing and shows why next to its form."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from loanrecovery.service import casework
from loanrecovery.service.api.access import check_case_access
from loanrecovery.service.db.models import (
    Activity,
    Arrangement,
    Borrower,
    Case,
    Loan,
    PanelMonth,
    PlanItem,
    Promise,
    User,
)
from loanrecovery.service.deps import DbSession, WriteSession
from loanrecovery.service.schemas import CHANNELS, OUTCOMES
from loanrecovery.service.scoring import latest_score
from loanrecovery.service.web.common import Page, check_csrf, render, require_page

__all__ = ["router", "history_chart"]

router = APIRouter(include_in_schema=False)
CaseId = Annotated[int, Path(ge=1, le=2**62)]
_W, _H, _MONTHS = 600, 160, 24


def history_chart(months: list[PanelMonth]) -> dict[str, Any]:
    """Bars of amount due against paid by month and a line of days past due, as SVG
    coordinates (drawn by the template; no script)."""
    months = months[-_MONTHS:]
    if not months:
        return {"bars": [], "line": "", "width": _W, "height": _H, "top": 0, "dpd_top": 0}
    top = max(max(m.amount_due, m.amount_paid) for m in months) or 1.0
    dpd_top = max(max(m.days_past_due for m in months), 30.0)
    step = _W / len(months)
    bars, points = [], []
    for i, m in enumerate(months):
        x = i * step
        due = m.amount_due / top * (_H - 20)
        paid = m.amount_paid / top * (_H - 20)
        bars.append(
            {
                "x": round(x + step * 0.1, 1),
                "w": round(step * 0.38, 1),
                "x2": round(x + step * 0.5, 1),
                "due_y": round(_H - 14 - due, 1),
                "due_h": round(due, 1),
                "paid_y": round(_H - 14 - paid, 1),
                "paid_h": round(paid, 1),
                "label": m.month,
                "title": f"month {m.month}: due {m.amount_due:,.2f}, paid {m.amount_paid:,.2f}, "
                f"{m.days_past_due:.0f} days past due",
            }
        )
        y = _H - 14 - m.days_past_due / dpd_top * (_H - 20)
        points.append(f"{x + step / 2:.1f},{y:.1f}")
    return {"bars": bars, "line": " ".join(points), "width": _W, "height": _H,
            "top": top, "dpd_top": dpd_top}  # fmt: skip


def _case(db: Session, case_id: int, page: Page) -> Case:
    case = db.get(Case, case_id)
    if case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"case {case_id} not found")
    check_case_access(page.user, case)
    return case


def _work_context(db: Session, case: Case) -> dict[str, Any]:
    names = dict(db.execute(select(User.id, User.name)).all())
    activities = db.scalars(
        select(Activity).where(Activity.case_id == case.id).order_by(Activity.id.desc()).limit(50)
    ).all()
    promises = db.scalars(
        select(Promise).where(Promise.loan_id == case.loan_id).order_by(Promise.id.desc()).limit(50)
    ).all()
    arrangements = db.scalars(
        select(Arrangement)
        .where(Arrangement.loan_id == case.loan_id)
        .order_by(Arrangement.id.desc())
    ).all()
    return {"case": case, "activities": activities, "promises": promises,
            "arrangements": arrangements, "names": names, "channels": CHANNELS,
            "outcomes": OUTCOMES, "promise_days": casework.PROMISE_MAX_DAYS,
            "auto_discount": casework.SETTLEMENT_AUTO_DISCOUNT,
            "max_discount": casework.SETTLEMENT_MAX_DISCOUNT}  # fmt: skip


def _page_context(db: Session, case: Case) -> dict[str, Any]:
    loan = db.get(Loan, case.loan_id)
    assert loan is not None  # a case's loan always exists (foreign key)
    borrower = None if loan.borrower_id is None else db.get(Borrower, loan.borrower_id)
    months = list(
        db.scalars(
            select(PanelMonth)
            .where(PanelMonth.loan_id == loan.loan_id)
            .order_by(PanelMonth.month.desc())
            .limit(_MONTHS)
        )
    )[::-1]
    plan = db.scalar(select(PlanItem).where(PlanItem.loan_id == loan.loan_id, PlanItem.current))
    return {
        "loan": loan,
        "score": latest_score(db, loan.loan_id),
        "plan": plan,
        "window": casework.contact_window(borrower),
        "chart": history_chart(months),
        "months": months,
        **_work_context(db, case),
    }


@router.get("/cases/{case_id}")
def case_page(
    request: Request,
    case_id: CaseId,
    db: DbSession,
    page: Annotated[Page, Depends(require_page("loans.read"))],
    msg: str = "",
) -> Response:
    """The case page."""
    case = _case(db, case_id, page)
    response: Response = render(
        request, "case.html", page, message=msg[:200], **_page_context(db, case)
    )
    return response


def _answer(
    request: Request, db: Session, page: Page, case_id: int, *, message: str = "",
    error: str = "", form: str = "",
) -> Response:  # fmt: skip
    """After an action: the refreshed work panel for HTMX, else back to the page."""
    if request.headers.get("HX-Request") == "true":
        case = _case(db, case_id, page)
        response: Response = render(
            request, "_case_work.html", page, message=message, error=error, form=form,
            **_work_context(db, case),
        )  # fmt: skip
        return response
    if error:
        case = _case(db, case_id, page)
        response = render(
            request, "case.html", page, status_code=422, message="", error=error, form=form,
            **_page_context(db, case),
        )  # fmt: skip
        return response
    return RedirectResponse(f"/cases/{case_id}?msg={quote(message)}", status_code=303)


def _act(
    request: Request, db: Session, page: Page, case_id: int, csrf: str, form: str,
    action: Any, done: str,
) -> Response:  # fmt: skip
    check_csrf(page, csrf)
    try:
        with db.begin():
            case = db.get(Case, case_id, with_for_update=True)
            if case is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"case {case_id} not found")
            check_case_access(page.user, case)
            if not case.is_open:
                raise casework.CaseRuleError("case", f"case {case_id} is {case.status}")
            loan = db.get(Loan, case.loan_id)
            assert loan is not None
            user = db.get(User, page.user.id)
            assert user is not None
            action(db, case, loan, user)
    except casework.CaseRuleError as exc:
        db.rollback()
        return _answer(request, db, page, case_id, error=exc.message, form=form)
    db.commit()
    return _answer(request, db, page, case_id, message=done, form=form)


WorkPage = Annotated[Page, Depends(require_page("cases.work"))]
Text = Annotated[str, Form(max_length=2000)]
Csrf = Annotated[str, Form(max_length=128)]


@router.post("/cases/{case_id}/call")
def log_call(
    request: Request, case_id: CaseId, db: WriteSession, page: WorkPage,
    channel: Annotated[str, Form()], outcome: Annotated[str, Form()], csrf: Csrf = "",
    note: Text = "", promised_date: Annotated[str, Form(max_length=10)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
) -> Response:  # fmt: skip
    """Log a contact; with the outcome "promise to pay", the promise in the same transaction."""

    def action(s: Session, case: Case, loan: Loan, user: User) -> None:
        if channel not in CHANNELS:
            raise casework.CaseRuleError(
                "channel", f"channel {channel!r}: expected one of {CHANNELS}"
            )
        if outcome not in OUTCOMES:
            raise casework.CaseRuleError(
                "outcome", f"outcome {outcome!r}: expected one of {OUTCOMES}"
            )
        borrower = None if loan.borrower_id is None else s.get(Borrower, loan.borrower_id)
        casework.log_activity(
            s, case, user, channel=channel, outcome=outcome, note=note.strip(),
            borrower=borrower, check_contact=True,
        )  # fmt: skip
        if outcome == "promise to pay":
            when, how_much = _promise_fields(promised_date, amount)
            casework.record_promise(
                s, case, user, promised_date=when, amount=how_much, balance=loan.outstanding
            )

    done = "Call logged" + (" with a promise to pay" if outcome == "promise to pay" else "")
    return _act(request, db, page, case_id, csrf, "call", action, done)


def _promise_fields(promised_date: str, amount: str) -> tuple[date, float]:
    try:
        when = date.fromisoformat(promised_date)
    except ValueError as exc:
        raise casework.CaseRuleError(
            "promised_date", f"promise date {promised_date!r}: expected a date YYYY-MM-DD"
        ) from exc
    try:
        how_much = float(amount)
    except ValueError as exc:
        raise casework.CaseRuleError("amount", f"amount {amount!r}: expected a number") from exc
    if how_much != how_much or how_much in (float("inf"), float("-inf")):
        raise casework.CaseRuleError("amount", f"amount {amount!r}: expected a finite number")
    return when, how_much


@router.post("/cases/{case_id}/promise")
def add_promise(
    request: Request, case_id: CaseId, db: WriteSession, page: WorkPage, csrf: Csrf = "",
    promised_date: Annotated[str, Form(max_length=10)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
) -> Response:  # fmt: skip
    """Record a promise to pay."""

    def action(s: Session, case: Case, loan: Loan, user: User) -> None:
        when, how_much = _promise_fields(promised_date, amount)
        casework.record_promise(
            s, case, user, promised_date=when, amount=how_much, balance=loan.outstanding
        )

    return _act(request, db, page, case_id, csrf, "promise", action, "Promise recorded")


@router.post("/cases/{case_id}/plan")
def add_plan(
    request: Request, case_id: CaseId, db: WriteSession, page: WorkPage, csrf: Csrf = "",
    instalments: Annotated[int, Form(ge=0, le=10_000)] = 0, note: Text = "",
) -> Response:  # fmt: skip
    """Propose a repayment plan."""

    def action(s: Session, case: Case, loan: Loan, user: User) -> None:
        casework.propose_plan(s, case, loan, user, instalments=instalments, note=note.strip())

    return _act(request, db, page, case_id, csrf, "plan", action, "Plan proposed")


@router.post("/cases/{case_id}/settlement")
def add_settlement(
    request: Request, case_id: CaseId, db: WriteSession, page: WorkPage, csrf: Csrf = "",
    amount: Annotated[str, Form(max_length=20)] = "", note: Text = "",
) -> Response:  # fmt: skip
    """Propose a settlement (above the automatic discount it waits for a manager)."""

    def action(s: Session, case: Case, loan: Loan, user: User) -> None:
        _, how_much = _promise_fields("2000-01-01", amount)
        casework.propose_settlement(s, case, loan, user, amount=how_much, note=note.strip())

    return _act(request, db, page, case_id, csrf, "settlement", action, "Settlement proposed")


@router.post("/cases/{case_id}/hardship")
def add_hardship(
    request: Request, case_id: CaseId, db: WriteSession, page: WorkPage, csrf: Csrf = "",
    note: Text = "",
) -> Response:  # fmt: skip
    """Ask for a hardship review."""

    def action(s: Session, case: Case, loan: Loan, user: User) -> None:
        if not note.strip():
            raise casework.CaseRuleError("note", "a hardship review needs a note saying why")
        casework.request_hardship(s, case, user, note=note.strip())

    return _act(request, db, page, case_id, csrf, "hardship", action, "Hardship review requested")
