"""Collection cases: opened, escalated and resolved from days past due; assigned to
collectors by the plan's priority and each collector's capacity."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from loanrecovery.service import audit
from loanrecovery.service.db.models import Case, LoanFacts, PlanItem, Score, User

__all__ = [
    "bucket_of",
    "sync_case",
    "sync_cases",
    "open_new_cases",
    "assign_case",
    "assign_open_cases",
    "case_priority",
]

logger = logging.getLogger(__name__)

_BUCKETS = ((90, "90+"), (60, "60-89"), (30, "30-59"), (1, "1-29"), (0, "Current"))


def bucket_of(days_past_due: float) -> str:
    """The delinquency bucket of a number of days past due."""
    for floor, name in _BUCKETS:
        if days_past_due >= floor:
            return name
    return "Current"


def _rank(bucket: str) -> int:
    return [name for _, name in reversed(_BUCKETS)].index(bucket)


def case_priority(session: Session, loan: LoanFacts) -> float:
    """The plan's priority for the loan (its expected gain, else expected loss); the amount
    outstanding when the loan has never been planned."""
    item = session.scalar(
        select(PlanItem.priority).where(PlanItem.loan_id == loan.loan_id, PlanItem.current)
    )
    return float(item) if item is not None else float(loan.outstanding)


def _state(case: Case) -> dict[str, object]:
    return {
        "status": case.status,
        "bucket": case.bucket,
        "days_past_due": case.days_past_due,
        "assigned_to": case.assigned_to,
    }


def sync_case(
    session: Session, loan: LoanFacts, *, actor: str, capacity: int, assign: bool = True
) -> Case | None:
    """Open, escalate or resolve the loan's case from its days past due; returns the open case
    (None when there is none after the change). A new case is assigned at once unless
    ``assign`` is false (an import assigns all new cases afterwards, by priority)."""
    case = session.scalar(select(Case).where(Case.loan_id == loan.loan_id, Case.is_open))
    return _sync(session, loan, case, actor=actor, capacity=capacity, assign=assign)


def sync_cases(
    session: Session,
    loans: Sequence[LoanFacts],
    *,
    actor: str,
    capacity: int,
    cases: Mapping[str, Case] | None = None,
) -> dict[str, Case | None]:
    """:func:`sync_case` for several loans, reading their open cases in one query (unless the
    caller read them: ``cases``, by loan id); returns each loan's open case after the
    change."""
    if cases is None:
        ids = [loan.loan_id for loan in loans]
        cases = {
            c.loan_id: c
            for c in session.scalars(select(Case).where(Case.loan_id.in_(ids), Case.is_open))
        }
    return {
        loan.loan_id: _sync(
            session, loan, cases.get(loan.loan_id), actor=actor, capacity=capacity, assign=True
        )
        for loan in loans
    }


def _sync(
    session: Session, loan: LoanFacts, case: Case | None, *, actor: str, capacity: int, assign: bool
) -> Case | None:
    dpd = int(loan.days_past_due)
    bucket = bucket_of(dpd)
    now = datetime.now(UTC)
    if case is None:
        if dpd <= 0:
            return None
        case = Case(
            loan_id=loan.loan_id,
            status="Open",
            bucket=bucket,
            days_past_due=dpd,
            priority=case_priority(session, loan),
            action=session.scalar(
                select(PlanItem.action).where(PlanItem.loan_id == loan.loan_id, PlanItem.current)
            ),
            segment=session.scalar(
                select(Score.segment)
                .where(Score.loan_id == loan.loan_id)
                .order_by(Score.id.desc())
                .limit(1)
            ),
            opened_at=now,
            is_open=True,
        )
        session.add(case)
        session.flush()
        if assign:
            assign_case(session, case, capacity=capacity, actor=actor)
        audit.record(
            session, actor=actor, action="case.opened", entity="case", entity_id=case.id,
            after=_state(case) | {"loan_id": loan.loan_id},
        )  # fmt: skip
        return case
    before = _state(case)
    if dpd <= 0:
        case.status, case.is_open, case.closed_at, case.days_past_due = "Resolved", False, now, 0
        audit.record(
            session, actor=actor, action="case.resolved", entity="case", entity_id=case.id,
            before=before, after=_state(case),
        )  # fmt: skip
        return None
    if bucket != case.bucket or dpd != case.days_past_due:
        escalated = _rank(bucket) > _rank(case.bucket)
        case.bucket, case.days_past_due = bucket, dpd
        action = "case.escalated" if escalated else "case.updated"
        audit.record(
            session, actor=actor, action=action, entity="case", entity_id=case.id,
            before=before, after=_state(case),
        )  # fmt: skip
    return case


def open_new_cases(session: Session, loans: list[tuple[str, int, float]], *, actor: str) -> int:
    """Open the cases of loans new to the database (``(loan_id, days_past_due,
    outstanding)``), as :func:`sync_case` opens them, with bulk inserts: only the delinquent
    ones get a case, unassigned, with the balance as priority (a new loan has no plan yet);
    one ``case.opened`` audit row each. Returns how many were opened."""
    now = datetime.now(UTC)
    late = [(loan_id, int(dpd), float(out)) for loan_id, dpd, out in loans if int(dpd) > 0]
    for start in range(0, len(late), 5_000):
        chunk = late[start : start + 5_000]
        rows = [
            {"loan_id": loan_id, "status": "Open", "bucket": bucket_of(dpd),
             "days_past_due": dpd, "priority": out, "opened_at": now, "is_open": True}
            for loan_id, dpd, out in chunk
        ]  # fmt: skip
        ids = session.scalars(insert(Case).returning(Case.id, sort_by_parameter_order=True), rows)
        audit.record_many(
            session, actor=actor, action="case.opened", entity="case",
            rows=[{"entity_id": case_id,
                   "after": {"status": "Open", "bucket": r["bucket"],
                             "days_past_due": r["days_past_due"], "assigned_to": None,
                             "loan_id": r["loan_id"]}}
                  for case_id, r in zip(ids.all(), rows, strict=True)],
        )  # fmt: skip
    return len(late)


def _loads(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(Case.assigned_to, func.count())
        .where(Case.is_open, Case.assigned_to.is_not(None))
        .group_by(Case.assigned_to)
    ).all()
    return {int(uid): int(n) for uid, n in rows if uid is not None}


def _collectors(session: Session) -> list[User]:
    return list(
        session.scalars(select(User).where(User.role == "collector", User.active).order_by(User.id))
    )


def _pick(collectors: list[User], loads: dict[int, int], capacity: int) -> User | None:
    best: tuple[float, int] | None = None
    chosen = None
    for user in collectors:
        cap = user.capacity if user.capacity is not None else capacity
        load = loads.get(user.id, 0)
        if cap <= 0 or load >= cap:
            continue
        key = (load / cap, user.id)
        if best is None or key < best:
            best, chosen = key, user
    return chosen


def assign_case(session: Session, case: Case, *, capacity: int, actor: str) -> User | None:
    """Give ``case`` to the collector with the most room (share of capacity used); None
    when every collector is full (the case waits, unassigned, for the next assignment run)."""
    user = _pick(_collectors(session), _loads(session), capacity)
    if user is not None:
        case.assigned_to = user.id
    return user


def assign_open_cases(session: Session, *, capacity: int, actor: str) -> int:
    """Assign unassigned open cases in the plan's priority order until collectors are full;
    returns how many were assigned (bulk updates and audit rows: a large import opens
    hundreds of thousands of cases)."""
    collectors = _collectors(session)
    loads = _loads(session)
    room = sum(
        max(0, (u.capacity if u.capacity is not None else capacity) - loads.get(u.id, 0))
        for u in collectors
    )
    if room <= 0:
        return 0
    session.flush()
    ids = session.scalars(
        select(Case.id)
        .where(Case.is_open, Case.assigned_to.is_(None))
        .order_by(Case.priority.desc(), Case.id)
        .limit(room)
    ).all()
    done: list[dict[str, int]] = []
    for case_id in ids:
        user = _pick(collectors, loads, capacity)
        if user is None:
            break
        done.append({"id": int(case_id), "assigned_to": user.id})
        loads[user.id] = loads.get(user.id, 0) + 1
    for start in range(0, len(done), 5_000):
        session.execute(update(Case), done[start : start + 5_000])
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Case):
            session.expire(obj, ["assigned_to"])
    audit.record_many(
        session, actor=actor, action="case.assigned", entity="case",
        rows=[{"entity_id": d["id"], "before": {"assigned_to": None},
               "after": {"assigned_to": d["assigned_to"], "rule": "priority"}} for d in done],
    )  # fmt: skip
    logger.info("assigned %d of %d unassigned open cases looked at", len(done), len(ids))
    return len(done)
