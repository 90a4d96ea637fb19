"""The monthly refresh (``loanrecovery refresh``): age the panel, read the stored book back,
refit the bundle, re-score and re-plan every loan in one batch, and record what changed.

Steps, each in its own transaction so that no request waits on the fit:

1. ageing (:func:`~loanrecovery.service.ageing.age_panel`) when the calendar has moved on;
2. the stored book read back through the contract
   (:func:`~loanrecovery.service.bookdb.read_stored_book`);
3. the bundle: refitted (:func:`~loanrecovery.bundle.fit_bundle`) unless the current one
   (``meta.bundle_path``) or the file at ``bundle_out`` was fitted on this very book (same
   :meth:`Book.fingerprint`), which is what makes a second refresh on unchanged data cheap and
   change nothing;
4. one batch :meth:`Bundle.apply`; then, in one transaction: a new score (bulk insert) for
   every loan whose newest score says something else, its plan item (the old one no longer
   current) and its open case's action, segment and priority; a ``refresh_runs`` row and one
   ``refresh_changes`` row per loan that entered or left the watchlist or whose recommended
   action changed; watchlist alerts through the outbox; ``meta.bundle_id`` / ``bundle_path``
   (running servers load the new bundle, see ``service.app``); one ``book.refreshed`` audit
   row with the before/after summary.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from loanrecovery.bundle import Bundle, fit_bundle, load_bundle, read_manifest, save_bundle
from loanrecovery.config import Config
from loanrecovery.contract.book import Book
from loanrecovery.exceptions import DataFileError
from loanrecovery.service import audit
from loanrecovery.service.ageing import AgeingReport, age_panel
from loanrecovery.service.alerts import raise_alerts
from loanrecovery.service.bookdb import read_stored_book
from loanrecovery.service.db import transaction
from loanrecovery.service.db.models import (
    Case,
    Loan,
    Meta,
    PlanItem,
    RefreshChange,
    RefreshRun,
    Score,
)

__all__ = ["RefreshReport", "refresh", "SCORE_FIELDS"]

logger = logging.getLogger(__name__)

#: What a score says; a loan gets a new score when one of these differs from its newest.
SCORE_FIELDS = (
    "bundle_id", "as_of", "status", "segment", "pd_3m", "pd_6m", "pd_12m", "risk_band",
    "reasons", "recommended_action", "action_why", "expected_gain", "on_watchlist",
)  # fmt: skip
_CHUNK = 5_000
_IDS = 900  # loan ids per IN (...) list


@dataclass
class RefreshReport:
    """What a refresh did (the ``refresh_runs`` row, the summaries and the timings)."""

    run_id: int
    bundle_id: str
    previous_bundle_id: str | None
    bundle_path: str
    refitted: bool
    as_of: int | None
    ageing: AgeingReport
    counts: dict[str, int]
    before: dict[str, Any]
    after: dict[str, Any]
    seconds: dict[str, float] = field(default_factory=dict)


def _float(value: Any) -> float | None:
    if value is None:
        return None
    out = float(value)
    return None if math.isnan(out) else out


def _text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _new_scores(accounts: pd.DataFrame, bundle_id: str, as_of: int | None) -> list[dict[str, Any]]:
    """One score row per account (the ``scores`` columns), in the accounts' order."""
    cols = {c: accounts[c].tolist() for c in accounts.columns}
    out = []
    for i in range(len(accounts)):
        reasons = _text(cols["Reasons"][i]) or ""
        out.append({
            "loan_id": str(cols["Loan_ID"][i]), "bundle_id": bundle_id, "as_of": as_of,
            "status": str(cols["Status"][i]), "segment": str(cols["Segment"][i]),
            "pd_3m": _float(cols["PD_3M"][i]), "pd_6m": _float(cols["PD_6M"][i]),
            "pd_12m": _float(cols["PD_12M"][i]), "risk_band": _text(cols["Risk_Band"][i]) or None,
            "reasons": [r for r in reasons.split("; ") if r],
            "recommended_action": _text(cols["Recommended_Action"][i]),
            "action_why": _text(cols["Action_Why"][i]),
            "expected_gain": _float(cols["Expected_Gain"][i]),
            "on_watchlist": bool(cols["On_Watchlist"][i]),
            "outstanding": float(cols["Outstanding"][i]),
        })  # fmt: skip
    return out


def _newest_scores(session: Session) -> dict[str, dict[str, Any]]:
    newest = select(func.max(Score.id).label("id")).group_by(Score.loan_id).subquery("newest")
    columns = [getattr(Score, name) for name in SCORE_FIELDS]
    rows = session.execute(
        select(Score.loan_id, *columns).join(newest, newest.c.id == Score.id)
    ).all()
    return {str(r[0]): dict(zip(SCORE_FIELDS, r[1:], strict=True)) for r in rows}


def _summary(states: Any) -> dict[str, Any]:
    states = list(states)
    actions = Counter(str(s["recommended_action"]) for s in states)
    return {
        "loans": len(states),
        "on_watchlist": sum(1 for s in states if s["on_watchlist"]),
        "actions": dict(sorted(actions.items())),
    }


def _changes(
    previous: dict[str, dict[str, Any]], new: list[dict[str, Any]]
) -> list[tuple[str, str, str | None, str | None]]:
    out: list[tuple[str, str, str | None, str | None]] = []
    for row in new:
        prev = previous.get(row["loan_id"])
        watched = prev is not None and bool(prev["on_watchlist"])
        if row["on_watchlist"] and not watched:
            out.append((row["loan_id"], "entered_watchlist", None, row["recommended_action"]))
        elif watched and not row["on_watchlist"]:
            out.append((row["loan_id"], "left_watchlist", None, row["recommended_action"]))
        if prev is not None and prev["recommended_action"] != row["recommended_action"]:
            out.append((row["loan_id"], "action_changed", prev["recommended_action"],
                        row["recommended_action"]))  # fmt: skip
    return out


def _plan_priority(row: dict[str, Any]) -> float:
    """As ``Scorer``: the expected gain, else the 12-month PD times the balance."""
    gain = row["expected_gain"]
    return float(gain) if gain is not None else (row["pd_12m"] or 0.0) * row["outstanding"]


def _store(session: Session, rows: list[dict[str, Any]], bundle_id: str) -> None:
    """New scores, current plan items and open cases of the loans in ``rows``, in bulk."""
    now = datetime.now(UTC)
    ids = [r["loan_id"] for r in rows]
    for start in range(0, len(ids), _IDS):
        session.execute(
            update(PlanItem)
            .where(PlanItem.current, PlanItem.loan_id.in_(ids[start : start + _IDS]))
            .values(current=False)
        )
    scores = [{k: v for k, v in r.items() if k != "outstanding"} | {"scored_at": now} for r in rows]
    plans = [
        {"loan_id": r["loan_id"], "action": str(r["recommended_action"]),
         "why": str(r["action_why"] or ""), "expected_gain": r["expected_gain"],
         "priority": _plan_priority(r), "bundle_id": bundle_id, "created_at": now, "current": True}
        for r in rows if r["recommended_action"]
    ]  # fmt: skip
    for start in range(0, max(len(scores), len(plans)), _CHUNK):
        if scores[start : start + _CHUNK]:
            session.execute(insert(Score), scores[start : start + _CHUNK])
        if plans[start : start + _CHUNK]:
            session.execute(insert(PlanItem), plans[start : start + _CHUNK])
    by_loan = {r["loan_id"]: r for r in rows}
    cases = []
    for start in range(0, len(ids), _IDS):
        chunk = ids[start : start + _IDS]
        query = select(Case.id, Case.loan_id).where(Case.is_open, Case.loan_id.in_(chunk))
        for case_id, loan_id in session.execute(query):
            r = by_loan[str(loan_id)]
            action = r["recommended_action"] or None
            priority = _plan_priority(r) if action else r["outstanding"]
            cases.append({"id": case_id, "action": action, "segment": r["segment"],
                          "priority": priority})  # fmt: skip
    for start in range(0, len(cases), _CHUNK):
        session.execute(update(Case), cases[start : start + _CHUNK])


def _set_meta(session: Session, key: str, value: str) -> None:
    row = session.get(Meta, key)
    if row is None:
        session.add(Meta(key=key, value=value))
    else:
        row.value = value


def _current_bundle(session: Session) -> tuple[str | None, str | None]:
    bundle_id = session.get(Meta, "bundle_id")
    path = session.get(Meta, "bundle_path")
    return (
        None if bundle_id is None else bundle_id.value,
        None if path is None else path.value,
    )


def _fitted_on(path: str | Path | None, book: Book) -> bool:
    """Whether ``path`` holds a bundle fitted on exactly this book."""
    if path is None or not Path(path).is_file():
        return False
    try:
        manifest = read_manifest(path)
    except (DataFileError, OSError, ValueError):
        return False
    return bool(manifest.get("data", {}).get("sha256") == book.fingerprint())


def _bundle(
    book: Book, current: str | None, bundle_out: Path, config: Config | None
) -> tuple[Bundle, Path, bool]:
    for candidate in (current, bundle_out):
        if _fitted_on(candidate, book):
            path = Path(str(candidate)).resolve()
            return load_bundle(path), path, False
    bundle = fit_bundle(book, config)
    bundle_out.parent.mkdir(parents=True, exist_ok=True)
    path = save_bundle(bundle, bundle_out).resolve()
    return load_bundle(path), path, True


def _record(
    session: Session,
    new: list[dict[str, Any]],
    bundle: Bundle,
    path: Path,
    refitted: bool,
    as_of: int | None,
    previous_id: str | None,
    *,
    counts: dict[str, int],
    actor: str,
    started: datetime,
) -> tuple[int, dict[str, int], dict[str, Any], dict[str, Any]]:
    """Store the changed scores and plans, the run, its changes, the alerts, the bundle in
    ``meta`` and the audit row (the refresh's write transaction)."""
    previous = _newest_scores(session)
    changed = [
        r for r in new
        if r["loan_id"] not in previous
        or any(previous[r["loan_id"]][k] != r[k] for k in SCORE_FIELDS)
    ]  # fmt: skip
    changes = _changes(previous, changed)
    _store(session, changed, bundle.bundle_id)
    by_id = {r["loan_id"]: r for r in changed}
    entering = [
        (c[0], f"entered the watchlist (PD 6 months {by_id[c[0]]['pd_6m'] or 0:.1%})")
        for c in changes if c[1] == "entered_watchlist"
    ]  # fmt: skip
    kinds = Counter(c[1] for c in changes)
    run_counts = counts | {
        "scores_stored": len(changed), "entered_watchlist": kinds["entered_watchlist"],
        "left_watchlist": kinds["left_watchlist"], "action_changed": kinds["action_changed"],
        "alerts_raised": raise_alerts(session, "watchlist", entering),
    }  # fmt: skip
    run = RefreshRun(
        started_at=started, finished_at=datetime.now(UTC), actor=actor,
        bundle_id=bundle.bundle_id, previous_bundle_id=previous_id, refitted=refitted,
        as_of=as_of, **run_counts,
    )  # fmt: skip
    session.add(run)
    session.flush()
    rows = [{"run_id": run.id, "loan_id": c[0], "kind": c[1], "before": c[2], "after": c[3]}
            for c in changes]  # fmt: skip
    for start in range(0, len(rows), _CHUNK):
        session.execute(insert(RefreshChange), rows[start : start + _CHUNK])
    _set_meta(session, "bundle_id", bundle.bundle_id)
    _set_meta(session, "bundle_path", str(path))
    before = _summary(previous.values()) | {"bundle_id": previous_id}
    after = _summary({**previous, **{r["loan_id"]: r for r in new}}.values())
    after |= {"bundle_id": bundle.bundle_id}
    audit.record(
        session, actor=actor, action="book.refreshed", entity="refresh_run", entity_id=run.id,
        before=before, after=after | {"counts": run_counts},
    )  # fmt: skip
    return int(run.id), run_counts, before, after


def refresh(
    factory: sessionmaker[Session],
    *,
    bundle_out: Path,
    actor: str,
    capacity: int,
    source: str,
    now: datetime | None = None,
    config: Config | None = None,
    progress: Callable[[str], None] | None = None,
) -> RefreshReport:
    """Run the monthly refresh (module docstring) on the database behind ``factory``.

    Raises
    ------
    DataFileError
        If no stored loan passes the contract, or the book cannot be fitted.
    """
    step = progress or (lambda _name: None)
    started = datetime.now(UTC)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        seconds[name] = round(time.perf_counter() - clock, 2)
        clock = time.perf_counter()

    step("ageing the panel")
    with transaction(factory) as session:
        ageing = age_panel(session, now=now or started, actor=actor, capacity=capacity)
    lap("ageing")
    step("reading the book")
    with factory() as session:
        book = read_stored_book(session, source=source)
        loans_in = int(session.scalar(select(func.count()).select_from(Loan)) or 0)
        previous_id, current_path = _current_bundle(session)
    counts = book.counts()["loans"]
    if counts["in"] != loans_in or counts["accepted"] + counts["rejected"] != loans_in:
        raise RuntimeError(f"read {counts} of {loans_in} stored loans")  # a bug, not input
    lap("read")
    step("fitting the bundle")
    bundle, path, refitted = _bundle(book, current_path, bundle_out, config)
    lap("fit" if refitted else "load")
    step("scoring and planning")
    result = bundle.apply(book)
    if result.accounts is None or len(result.accounts) != counts["accepted"]:
        raise RuntimeError("the bundle did not answer for every accepted loan")
    new = _new_scores(result.accounts, bundle.bundle_id, book.as_of)
    lap("apply")
    step("storing")
    with transaction(factory) as session:
        run_id, run_counts, before, after = _record(
            session, new, bundle, path, refitted, book.as_of, previous_id,
            counts={"months_added": ageing.months_added, "loans_aged": ageing.loans_aged,
                    "loans_in": loans_in, "loans_scored": len(new),
                    "loans_rejected": counts["rejected"]},
            actor=actor, started=started,
        )  # fmt: skip
    lap("store")
    logger.info("refresh run %d: %s", run_id, run_counts)
    return RefreshReport(
        run_id=run_id, bundle_id=bundle.bundle_id, previous_bundle_id=previous_id,
        bundle_path=str(path), refitted=refitted, as_of=book.as_of, ageing=ageing,
        counts=run_counts, before=before, after=after, seconds=seconds,
    )  # fmt: skip
