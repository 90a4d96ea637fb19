"""The manager's console (``/console``), the policy editor (``/policy``) and the audit page
(``/audit``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import RedirectResponse, Response
from scipy import stats
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loanrecovery.exceptions import PolicyError
from loanrecovery.service import audit, casework, policies
from loanrecovery.service.db.models import (
    Alert,
    Arrangement,
    AuditRow,
    Case,
    CommMessage,
    Loan,
    PaymentEvent,
    PlanItem,
    PolicyVersion,
    Promise,
    User,
)
from loanrecovery.service.deps import DbSession, WriteSession
from loanrecovery.service.web.common import Page, check_csrf, render, require_page

__all__ = ["router", "console_figures", "comms_figures", "COMM_STATUSES", "arm_figures"]

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(max_length=128)]


def _month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def console_figures(db: Session, settings_capacity: int) -> dict[str, Any]:
    """Everything the console shows, computed from the tables."""
    now = datetime.now(UTC)
    month = _month_start(now)
    loads = dict(
        db.execute(
            select(Case.assigned_to, func.count()).where(Case.is_open).group_by(Case.assigned_to)
        ).all()
    )
    collectors = []
    for user in db.scalars(select(User).where(User.role == "collector").order_by(User.name)):
        cap = user.capacity if user.capacity is not None else settings_capacity
        load = int(loads.get(user.id, 0))
        collectors.append({"id": user.id, "name": user.name, "active": user.active,
                           "load": load, "capacity": cap})  # fmt: skip
    action = func.coalesce(PlanItem.action, "no plan")
    by_action = db.execute(
        select(action, func.count(), func.sum(PlanItem.expected_gain))
        .select_from(Case)
        .outerjoin(PlanItem, (PlanItem.loan_id == Case.loan_id) & PlanItem.current)
        .where(Case.is_open)
        .group_by(action)
        .order_by(func.count().desc())
    ).all()
    recovered = dict(
        db.execute(
            select(action, func.sum(PaymentEvent.amount))
            .select_from(PaymentEvent)
            .outerjoin(PlanItem, (PlanItem.loan_id == PaymentEvent.loan_id) & PlanItem.current)
            .where(PaymentEvent.state == "applied", PaymentEvent.received_at >= month)
            .group_by(action)
        ).all()
    )
    actions = [
        {"action": a, "open": int(n), "expected": float(g or 0.0),
         "recovered": float(recovered.get(a) or 0.0)}
        for a, n, g in by_action
    ]  # fmt: skip
    promises = dict(
        db.execute(
            select(Promise.status, func.count())
            .where(Promise.created_at >= month)
            .group_by(Promise.status)
        ).all()
    )
    alerts = db.scalars(
        select(Alert).where(Alert.created_at >= now - timedelta(days=1)).order_by(Alert.id.desc())
    ).all()
    pending = db.scalars(
        select(Arrangement)
        .where(Arrangement.kind == "settlement", Arrangement.status == "Pending")
        .order_by(Arrangement.id)
    ).all()
    hardship = db.scalars(
        select(Arrangement)
        .where(Arrangement.kind == "hardship", Arrangement.status == "Requested")
        .order_by(Arrangement.id)
    ).all()
    return {
        "comms": comms_figures(db),
        "arms": arm_figures(db),
        "collectors": collectors,
        "unassigned": int(loads.get(None, 0)),
        "actions": actions,
        "recovered_total": sum(a["recovered"] for a in actions),
        "expected_total": sum(a["expected"] for a in actions),
        "promises": {k: int(promises.get(k, 0)) for k in ("Open", "Partial", "Kept", "Broken")},
        "alerts": alerts[:20],
        "alert_count": len(alerts),
        "pending": pending,
        "hardship": hardship,
        "month": month.strftime("%B %Y"),
    }


#: The console's message counts: what went out, what arrived, what did not.
COMM_STATUSES = {"sent": ("sending", "sent", "delivered", "bounced", "failed"),
                 "delivered": ("delivered",), "failed": ("failed", "bounced"),
                 "queued": ("queued",)}  # fmt: skip


def comms_figures(db: Session) -> dict[str, Any]:
    """Borrower messages by status (sent counts every message handed to a channel) and the
    blocked ones by the rule that blocked them, read from ``comm_messages``."""
    by_status = {
        str(k): int(n)
        for k, n in db.execute(
            select(CommMessage.status, func.count()).group_by(CommMessage.status)
        ).all()
    }
    blocked = [
        (str(rule), int(n))
        for rule, n in db.execute(
            select(CommMessage.rule, func.count())
            .where(CommMessage.status == "blocked")
            .group_by(CommMessage.rule)
            .order_by(func.count().desc(), CommMessage.rule)
        ).all()
    ]
    counts = {name: sum(by_status.get(s, 0) for s in group) for name, group in
              COMM_STATUSES.items()}  # fmt: skip
    return counts | {"blocked": sum(n for _, n in blocked), "blocked_by_rule": blocked}


#: Fewer accounts than this in an arm: the console says the evidence is too thin.
MIN_ARM_ACCOUNTS = 30


def arm_figures(db: Session) -> dict[str, Any]:
    """Champion against challenger over the cases given an arm at import: accounts, recovered
    to date (applied payments since each case opened), expected gain of the current plan, the
    recovery rate (recovered over recovered plus outstanding), the challenger's difference,
    and why it is not yet evidence (too few accounts, or a Welch test of recovered per account
    with p >= 0.05)."""
    paid = (
        select(func.coalesce(func.sum(PaymentEvent.amount), 0.0))
        .where(
            PaymentEvent.loan_id == Case.loan_id,
            PaymentEvent.state == "applied",
            PaymentEvent.received_at >= Case.opened_at,
        )  # fmt: skip
        .scalar_subquery()
    )
    gain = (
        select(func.coalesce(func.sum(PlanItem.expected_gain), 0.0))
        .where(PlanItem.loan_id == Case.loan_id, PlanItem.current)
        .scalar_subquery()
    )
    per_account: dict[str, list[tuple[float, float, float]]] = {}
    for arm, recovered, expected, outstanding in db.execute(
        select(Case.arm, paid, gain, Loan.outstanding)
        .join(Loan, Loan.loan_id == Case.loan_id)
        .where(Case.arm.is_not(None))
    ):
        per_account.setdefault(str(arm), []).append(
            (float(recovered), float(expected), float(outstanding))
        )
    arms: list[dict[str, Any]] = []
    for name in ("champion", "challenger"):
        rows = per_account.get(name, [])
        recovered = sum(r for r, _, _ in rows)
        owed = recovered + sum(o for _, _, o in rows)
        arms.append({"arm": name, "accounts": len(rows), "recovered": recovered,
                     "expected": sum(e for _, e, _ in rows),
                     "rate": recovered / owed if owed > 0 else None})  # fmt: skip
    champion, challenger = arms
    sizes = [int(champion["accounts"]), int(challenger["accounts"])]
    difference = (
        None if champion["rate"] is None or challenger["rate"] is None
        else challenger["rate"] - champion["rate"]
    )  # fmt: skip
    note = ""
    if not per_account:
        note = "No case has an arm: import with --bundle of a bundle with a challenger."
    elif min(sizes) < MIN_ARM_ACCOUNTS:
        counts = f"{sizes[0]} champion, {sizes[1]} challenger"
        note = f"Too thin to compare: fewer than {MIN_ARM_ACCOUNTS} accounts in an arm ({counts})."
    else:
        a = [r for r, _, _ in per_account["champion"]]
        b = [r for r, _, _ in per_account["challenger"]]
        p_value = float(stats.ttest_ind(b, a, equal_var=False).pvalue)
        if not p_value < 0.05:
            note = (f"Not yet evidence: the difference in recovered per account could be "
                    f"chance (Welch test p = {p_value:.2f}).")  # fmt: skip
    return {"rows": arms, "difference": difference, "note": note}


@router.get("/console")
def console(
    request: Request,
    db: DbSession,
    page: Annotated[Page, Depends(require_page("console.read"))],
    msg: Annotated[str, Query(max_length=200)] = "",
    err: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    """The console."""
    capacity = request.app.state.services.settings.collector_capacity
    response: Response = render(
        request, "console.html", page, message=msg, error=err, **console_figures(db, capacity)
    )
    return response


@router.post("/console/settlements/{arrangement_id}")
def decide(
    arrangement_id: int,
    db: WriteSession,
    page: Annotated[Page, Depends(require_page("settlements.decide"))],
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
    csrf: Csrf = "",
) -> Response:
    """Approve or reject a Pending settlement."""
    check_csrf(page, csrf)
    try:
        with db.begin():
            row = db.get(Arrangement, arrangement_id, with_for_update=True)
            user = db.get(User, page.user.id)
            if row is None or user is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, "no such settlement")
            casework.decide_settlement(db, row, user, approve=decision == "approve")
    except casework.CaseRuleError as exc:
        return RedirectResponse(f"/console?err={quote(exc.message)}", status_code=303)
    done = "approved" if decision == "approve" else "rejected"
    return RedirectResponse(f"/console?msg=Settlement+{arrangement_id}+{done}", status_code=303)


@router.post("/console/reassign")
def reassign(
    db: WriteSession,
    page: Annotated[Page, Depends(require_page("cases.assign"))],
    loan_id: Annotated[str, Form(max_length=64)],
    collector: Annotated[int, Form(ge=1, le=2**62)],
    csrf: Csrf = "",
) -> Response:
    """Give a loan's open case to a collector."""
    check_csrf(page, csrf)
    with db.begin():
        case = db.scalar(
            select(Case).where(Case.loan_id == loan_id.strip(), Case.is_open).with_for_update()
        )
        target = db.get(User, collector)
        if case is None:
            error = f"loan {loan_id.strip()!r} has no open case"
        elif target is None or target.role != "collector" or not target.active:
            error = f"user {collector} is not an active collector"
        else:
            error = ""
            before = case.assigned_to
            case.assigned_to = target.id
            audit.record(
                db, actor=page.user.name, action="case.assigned", entity="case",
                entity_id=case.id, before={"assigned_to": before},
                after={"assigned_to": target.id, "rule": "manual"},
            )  # fmt: skip
    if error:
        return RedirectResponse(f"/console?err={quote(error)}", status_code=303)
    return RedirectResponse(f"/console?msg=Case+of+{loan_id.strip()}+reassigned", status_code=303)


@router.get("/policy")
def policy_page(
    request: Request, db: DbSession, page: Annotated[Page, Depends(require_page("policy.read"))]
) -> Response:
    """The policy in force, its versions, and the editor (for roles that may save)."""
    version, text = policies.current_policy(db)
    versions = db.scalars(select(PolicyVersion).order_by(PolicyVersion.version.desc()).limit(20))
    response: Response = render(
        request, "policy.html", page, version=version, text=text, versions=list(versions),
        error="", message="",
    )  # fmt: skip
    return response


@router.post("/policy")
def save_policy(
    request: Request,
    db: WriteSession,
    page: Annotated[Page, Depends(require_page("policy.write"))],
    text: Annotated[str, Form(max_length=policies.MAX_POLICY_CHARS)],
    csrf: Csrf = "",
) -> Response:
    """Validate and save a new version; an invalid policy is shown back with its line."""
    check_csrf(page, csrf)
    text = text.replace("\r\n", "\n")
    try:
        with db.begin():
            row = policies.save_policy(db, text, actor=page.user.name)
            saved = row.version
    except PolicyError as exc:
        db.rollback()
        version, _ = policies.current_policy(db)
        versions = db.scalars(
            select(PolicyVersion).order_by(PolicyVersion.version.desc()).limit(20)
        )
        response: Response = render(
            request, "policy.html", page, status_code=422, version=version, text=text,
            versions=list(versions), error=str(exc), message="",
        )  # fmt: skip
        return response
    return RedirectResponse(f"/policy?saved={saved}", status_code=303)


@router.get("/audit")
def audit_page(
    request: Request,
    db: DbSession,
    page: Annotated[Page, Depends(require_page("audit.read"))],
    actor: Annotated[str, Query(max_length=128)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    entity: Annotated[str, Query(max_length=32)] = "",
    before_id: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> Response:
    """The audit trail, newest first, 100 rows a page."""
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(100)
    if actor:
        query = query.where(AuditRow.actor == actor)
    if action:
        query = query.where(AuditRow.action == action)
    if entity:
        query = query.where(AuditRow.entity == entity)
    if before_id:
        query = query.where(AuditRow.id < before_id)
    rows = list(db.scalars(query))
    response: Response = render(
        request, "audit.html", page, rows=rows, actor=actor, action=action, entity=entity,
    )  # fmt: skip
    return response
