"""``/work``: the queue. A collector sees the open cases assigned to them, a manager every
open case (or one collector's); highest plan priority first, filtered by action, segment and
promise status, searched by Loan_ID, borrower id or borrower name, 50 to a page."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from loanrecovery.service.casework import contact_window
from loanrecovery.service.db.models import (
    Borrower,
    BorrowerName,
    Case,
    Loan,
    PlanItem,
    Promise,
    Score,
    User,
)
from loanrecovery.service.deps import DbSession
from loanrecovery.service.web.common import Page, render, require_page

__all__ = ["router", "PAGE_SIZE", "QueueFilters", "queue_rows", "parse_cursor"]

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
#: Matching cases are counted up to this many ("more than 1,000" beyond): counting every match of a
#: filter over 100,000 cases would cost more than the page itself.
COUNT_CAP = 1_000
_CHOICES_SECONDS = 300.0
_choices_cache: dict[int, tuple[float, Any]] = {}
PROMISE_FILTERS = ("open", "broken", "kept", "none")


@dataclass(frozen=True)
class QueueFilters:
    """The queue's filters as the form sends them (empty: no filter)."""

    action: str = ""
    segment: str = ""
    promise: str = ""
    q: str = ""
    collector: int | None = None
    page: int = 1
    after: str = ""


def _name_match(db: Session, text: str) -> Any:
    """Borrowers whose name has a word starting with ``text`` (case-insensitive), found on
    the ``borrower_names`` index by prefix: GLOB on SQLite (its LIKE ignores case and so
    skips a plain index), LIKE on PostgreSQL (a ``text_pattern_ops`` index)."""
    key = " ".join(text.lower().split())[:200]
    if db.get_bind().dialect.name == "sqlite":
        glob = "".join(f"[{c}]" if c in "*?[" else c for c in key)
        match = BorrowerName.key.op("GLOB")(glob + "*")
    else:
        like = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        match = BorrowerName.key.like(like + "%", escape="\\")
    return select(BorrowerName.borrower_id).where(match)


def _filtered(db: Session, base: Any, page: Page, f: QueueFilters, *, exact: bool) -> Any:
    query = base.where(Case.is_open)
    if page.user.role == "collector":
        query = query.where(Case.assigned_to == page.user.id)
    elif f.collector is not None:
        query = query.where(Case.assigned_to == f.collector)
    if f.action:
        query = query.where(Case.action == f.action)
    if f.segment:
        query = query.where(Case.segment == f.segment)
    if f.promise in ("open", "broken", "kept"):
        statuses = {"open": ("Open", "Partial"), "broken": ("Broken",), "kept": ("Kept",)}
        query = query.where(
            Case.id.in_(select(Promise.case_id).where(Promise.status.in_(statuses[f.promise])))
        )
    elif f.promise == "none":
        query = query.where(~exists().where(Promise.case_id == Case.id))
    text = f.q.strip()
    if text:  # one IN over the loans (an OR beside it would make the planner scan the cases)
        if exact:  # a Loan_ID or borrower id: no name search
            theirs = select(Loan.loan_id).where(or_(Loan.loan_id == text, Loan.borrower_id == text))
        else:  # neither: the start of a word of the borrower's name
            theirs = select(Loan.loan_id).where(Loan.borrower_id.in_(_name_match(db, text)))
        query = query.where(Case.loan_id.in_(theirs))
    return query


def parse_cursor(value: str) -> tuple[float, int] | None:
    """The ``after`` cursor of a Next link ("priority:id" of the last row shown), or None."""
    head, _, tail = value.partition(":")
    try:
        priority, case_id = float(head), int(tail)
    except ValueError:
        return None
    return (priority, case_id) if math.isfinite(priority) else None


def queue_rows(db: Session, page: Page, f: QueueFilters) -> tuple[list[dict[str, Any]], int]:
    """One page of the queue (dicts for the template) and the number of matching cases (up
    to ``COUNT_CAP + 1``).

    The page's case ids come first, from an index in priority order: after the ``after``
    cursor (keyset paging: the Next link) or, for a page reached by its number, skipping
    ``(page - 1) * PAGE_SIZE`` ids on the index alone; the rows are then read by id."""
    text = f.q.strip()
    exact = bool(text) and (
        db.scalar(
            select(Loan.loan_id).where(or_(Loan.loan_id == text, Loan.borrower_id == text)).limit(1)
        )
        is not None
    )
    matching = _filtered(db, select(Case.id), page, f, exact=exact).limit(COUNT_CAP + 1)
    total = int(db.scalar(select(func.count()).select_from(matching.subquery())) or 0)
    ids_query = _filtered(db, select(Case.id), page, f, exact=exact)
    cursor = parse_cursor(f.after) if f.after else None
    if cursor is not None:
        after_priority, after_id = cursor
        ids_query = ids_query.where(
            or_(
                Case.priority < after_priority,
                and_(Case.priority == after_priority, Case.id > after_id),
            )
        )
    else:
        ids_query = ids_query.offset((f.page - 1) * PAGE_SIZE)
    ids = list(db.scalars(ids_query.order_by(Case.priority.desc(), Case.id).limit(PAGE_SIZE)))
    by_id = {case.id: case for case in db.scalars(select(Case).where(Case.id.in_(ids)))}
    cases = [by_id[i] for i in ids]
    loans_by_id = {
        loan.loan_id: loan
        for loan in db.scalars(select(Loan).where(Loan.loan_id.in_([c.loan_id for c in cases])))
    }
    rows: Sequence[Any] = [(case, loans_by_id[case.loan_id]) for case in cases]
    loan_ids = [loan.loan_id for _, loan in rows]
    case_ids = [case.id for case, _ in rows]
    scores: dict[str, Score] = {}
    for score in db.scalars(select(Score).where(Score.loan_id.in_(loan_ids)).order_by(Score.id)):
        scores[score.loan_id] = score
    plans = dict(
        db.execute(
            select(PlanItem.loan_id, PlanItem.action).where(
                PlanItem.loan_id.in_(loan_ids), PlanItem.current
            )
        ).all()
    )
    promises: dict[int, str] = {}
    for case_id, status in db.execute(
        select(Promise.case_id, Promise.status)
        .where(Promise.case_id.in_(case_ids))
        .order_by(Promise.id)
    ):
        promises[case_id] = status
    borrower_ids = [loan.borrower_id for _, loan in rows if loan.borrower_id]
    borrowers = {
        b.borrower_id: b
        for b in db.scalars(select(Borrower).where(Borrower.borrower_id.in_(borrower_ids)))
    }
    names = (
        dict(db.execute(select(User.id, User.name)).all()) if page.user.role != "collector" else {}
    )
    now = datetime.now(UTC)
    out = []
    for case, loan in rows:
        found = scores.get(loan.loan_id)
        window = contact_window(borrowers.get(loan.borrower_id or ""), now)
        out.append(
            {
                "case_id": case.id,
                "priority": case.priority,
                "loan_id": loan.loan_id,
                "status": case.status,
                "balance": loan.outstanding,
                "dpd": case.days_past_due,
                "bucket": case.bucket,
                "segment": None if found is None else found.segment,
                "pd": None if found is None else found.pd_6m,
                "band": None if found is None else found.risk_band,
                "action": plans.get(loan.loan_id)
                or (None if found is None else found.recommended_action),
                "promise": promises.get(case.id),
                "window": window,
                "collector": names.get(case.assigned_to) if case.assigned_to else None,
            }
        )
    return out, total


def _choices(db: Session) -> tuple[list[str], list[str], list[tuple[int, str]]]:
    """The filters' options (actions, segments, collectors), kept for a few minutes: they
    change with a rescoring, and reading them scans the plan and the scores."""
    key = id(db.get_bind())
    now = time.monotonic()
    held = _choices_cache.get(key)
    if held is not None and now - held[0] < _CHOICES_SECONDS:
        cached: tuple[list[str], list[str], list[tuple[int, str]]] = held[1]
        return cached
    fresh = _read_choices(db)
    _choices_cache[key] = (now, fresh)
    return fresh


def _read_choices(db: Session) -> tuple[list[str], list[str], list[tuple[int, str]]]:
    actions = sorted(
        a for a in db.scalars(select(PlanItem.action).where(PlanItem.current).distinct()) if a
    )
    segments = sorted(s for s in db.scalars(select(Score.segment).distinct()) if s)
    collectors = [
        (int(i), str(n))
        for i, n in db.execute(
            select(User.id, User.name).where(User.role == "collector").order_by(User.name)
        )
    ]
    return actions, segments, collectors


@router.get("/work")
def work(
    request: Request,
    db: DbSession,
    page: Annotated[Page, Depends(require_page("queue.read"))],
    action: Annotated[str, Query(max_length=64)] = "",
    segment: Annotated[str, Query(max_length=64)] = "",
    promise: Annotated[str, Query(max_length=16)] = "",
    q: Annotated[str, Query(max_length=128)] = "",
    collector: Annotated[str, Query(max_length=20)] = "",
    p: Annotated[int, Query(ge=1, le=100_000)] = 1,
    after: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The queue page (the table alone for HTMX requests)."""
    who = int(collector) if collector.isdigit() else None
    f = QueueFilters(action=action, segment=segment, promise=promise if promise in
                     PROMISE_FILTERS else "", q=q, collector=who, page=p,
                     after=after)  # fmt: skip
    rows, total = queue_rows(db, page, f)
    pages = max(1, -(-total // PAGE_SIZE))
    last = rows[-1] if len(rows) == PAGE_SIZE else None
    context: dict[str, Any] = {"rows": rows, "total": total, "pages": pages, "f": f,
                               "capped": total > COUNT_CAP,
                               "next_after": "" if last is None else
                               f"{last['priority']!r}:{last['case_id']}"}  # fmt: skip
    if request.headers.get("HX-Request") == "true":
        response: Response = render(request, "_queue_table.html", page, **context)
        return response
    actions, segments, collectors = _choices(db)
    response = render(
        request, "queue.html", page, actions=actions, segments=segments, collectors=collectors,
        promise_filters=PROMISE_FILTERS, **context,
    )  # fmt: skip
    return response
