"""Importing a book (loans, payment panel, collection history) into the database through the
data contract. Importing the same book twice changes nothing.

Only rows the contract accepts are stored; the rejects are returned (``import`` writes them as
``run`` does). A loan row already stored is updated only when its values changed; panel months
and collection actions already stored are kept as they are (history is not rewritten).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from loanrecovery.recovery.challenger import assign_arms
from loanrecovery.service import audit
from loanrecovery.service.bulkload import analyze, bulk_insert, bulk_insert_rows
from loanrecovery.service.cases import assign_open_cases, open_new_cases, sync_case
from loanrecovery.service.db.models import (
    Borrower,
    Case,
    CollectionAction,
    Loan,
    Meta,
    PanelMonth,
)
from loanrecovery.service.ledger import calendar_month

__all__ = ["ImportReport", "import_book", "records"]

logger = logging.getLogger(__name__)

#: Month indices at or above this are calendar months (year * 12 + month - 1).
_CALENDAR_FLOOR = 1900 * 12
_CHUNK = 5_000
#: Rows written from which the import refreshes PostgreSQL's planner statistics.
_ANALYZE_AFTER = 10_000


@dataclass
class ImportReport:
    """What an import did: rows per table inserted, updated and left unchanged."""

    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    cases_opened: int = 0
    cases_assigned: int = 0

    @property
    def changed(self) -> bool:
        """Whether anything was written."""
        return any(self.inserted.values()) or any(self.updated.values())


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (NaN becomes None, numpy scalars become Python)."""
    if frame.empty:
        return []
    out: list[dict[str, Any]] = json.loads(
        frame.to_json(orient="records", double_precision=15, date_format="iso")
    )
    return out


def _bulk(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    bulk_insert_rows(session, model, rows)


def _borrowers(session: Session, loans: pd.DataFrame, report: ImportReport) -> None:
    if "Borrower_ID" not in loans:
        return
    existing = set(session.scalars(select(Borrower.borrower_id)))
    first = loans.drop_duplicates("Borrower_ID")
    ids = first["Borrower_ID"].tolist()
    offsets = first["UTC_Offset"].tolist() if "UTC_Offset" in first else [None] * len(first)
    opt_out = (
        first["Contact_Opt_Out"].tolist() if "Contact_Opt_Out" in first else ["No"] * len(first)
    )
    new: list[dict[str, Any]] = []
    for bid, offset, out in zip(ids, offsets, opt_out, strict=True):
        if bid is None or (isinstance(bid, float) and np.isnan(bid)) or str(bid) in existing:
            continue
        missing = offset is None or (isinstance(offset, float) and np.isnan(offset))
        new.append(
            {
                "borrower_id": str(bid),
                "utc_offset": None if missing else int(offset),
                "contact_opt_out": str(out if out is not None else "No").lower() in ("yes", "true"),
                "personal": {},
            }
        )
    _bulk(session, Borrower, new)
    report.inserted["borrowers"] = len(new)


def _loan_state(row: dict[str, Any], panel_month: int | None) -> dict[str, Any]:
    emi = row.get("Current_EMI") or row.get("Monthly_EMI") or 0.0
    return {
        "outstanding": float(row.get("Outstanding_Loan_Amount") or 0.0),
        "days_past_due": int(row.get("Days_Past_Due") or 0),
        "panel_month": panel_month,
        "emi": float(emi),
    }


def _loans(
    session: Session, loans: pd.DataFrame, last_month: dict[str, int], report: ImportReport
) -> tuple[list[tuple[str, int, float]], list[str]]:
    """Insert new loans and update changed ones, a chunk at a time (only the stored rows of
    the chunk's loans are read back to compare). Returns the new loans (id, days past due,
    balance) and the ids of the updated ones."""
    stored_ids = set(session.scalars(select(Loan.loan_id)))
    now = datetime.now(UTC)
    new: list[tuple[str, int, float]] = []
    touched: list[str] = []
    same = 0
    for start in range(0, len(loans), _CHUNK * 4):
        rows = records(loans.iloc[start : start + _CHUNK * 4])
        known = [str(r["Loan_ID"]) for r in rows if str(r["Loan_ID"]) in stored_ids]
        existing = {}
        for k in range(0, len(known), 900):
            query = select(Loan).where(Loan.loan_id.in_(known[k : k + 900]))
            existing.update({loan.loan_id: loan for loan in session.scalars(query)})
        inserts = []
        for row in rows:
            loan_id = str(row["Loan_ID"])
            state = _loan_state(row, last_month.get(loan_id))
            stored = existing.get(loan_id)
            if stored is None:
                borrower = row.get("Borrower_ID")
                inserts.append(
                    {"loan_id": loan_id, "borrower_id": None if borrower is None else str(borrower),
                     "data": row, "updated_at": now} | state
                )  # fmt: skip
                new.append((loan_id, int(state["days_past_due"]), float(state["outstanding"])))
            elif stored.data != row:
                stored.data = row
                for key, value in state.items():
                    setattr(stored, key, value)
                stored.updated_at = now
                touched.append(loan_id)
            else:
                same += 1
        _bulk(session, Loan, inserts)
        session.flush()
        for loan in existing.values():
            if loan.loan_id not in touched:
                session.expunge(loan)
    report.inserted["loans"], report.updated["loans"], report.unchanged["loans"] = (
        len(new), len(touched), same,
    )  # fmt: skip
    return new, touched


def _stored_keys(session: Session, columns: Any, loan_col: Any, loan_ids: list[str]) -> set[Any]:
    out: set[Any] = set()
    for k in range(0, len(loan_ids), 900):
        out.update(
            tuple(r)
            for r in session.execute(select(*columns).where(loan_col.in_(loan_ids[k : k + 900])))
        )
    return out


def _panel(
    session: Session, panel: pd.DataFrame | None, old: list[str], report: ImportReport
) -> None:
    """Insert the panel months not stored yet (only loans stored before this import can have
    any), from the columns directly, a chunk at a time."""
    if panel is None or panel.empty:
        report.inserted["panel"] = 0
        return
    keys = ("loan_id", "month", "amount_due", "amount_paid", "days_past_due",
            "outstanding_balance")  # fmt: skip
    ids = panel["Loan_ID"].astype(str).to_numpy()
    cols = [ids, panel["Month"].to_numpy(dtype=np.int64)] + [
        panel[c].to_numpy(dtype=float)
        for c in ("Amount_Due", "Amount_Paid", "Days_Past_Due", "Outstanding_Balance")
    ]
    keep = np.ones(len(panel), dtype=bool)
    olds = set(old)
    if olds:
        mine = np.fromiter((i in olds for i in ids), dtype=bool, count=len(ids))
        stored = _stored_keys(session, (PanelMonth.loan_id, PanelMonth.month),
                              PanelMonth.loan_id, sorted(olds))  # fmt: skip
        keep[mine] = [
            (i, int(m)) not in stored for i, m in zip(ids[mine], cols[1][mine], strict=True)
        ]
    done = 0
    step = _CHUNK * 4
    for start in range(0, len(panel), step):
        part = [c[start : start + step][keep[start : start + step]].tolist() for c in cols]
        done += bulk_insert(session, PanelMonth, keys, zip(*part, strict=True))
    report.inserted["panel"], report.unchanged["panel"] = done, len(panel) - done


def _history(
    session: Session, history: pd.DataFrame | None, old: list[str], report: ImportReport
) -> None:
    if history is None or history.empty:
        report.inserted["collections"] = 0
        return
    existing = _stored_keys(
        session, (CollectionAction.loan_id, CollectionAction.month, CollectionAction.action),
        CollectionAction.loan_id, old,
    )  # fmt: skip
    rows, seen = [], set()
    cost = history["Cost"] if "Cost" in history else pd.Series(0.0, index=history.index)
    got = (
        history["Recovered_Amount"] if "Recovered_Amount" in history
        else pd.Series(0.0, index=history.index)
    )  # fmt: skip
    for loan_id, month, action, c, r in zip(
        history["Loan_ID"].astype(str).tolist(), history["Month"].astype(int).tolist(),
        history["Action"].astype(str).tolist(), cost.fillna(0.0).astype(float).tolist(),
        got.fillna(0.0).astype(float).tolist(), strict=True,
    ):  # fmt: skip
        key = (loan_id, month, action)
        if key in existing or key in seen:
            continue
        seen.add(key)
        rows.append({"loan_id": loan_id, "month": month, "action": action, "cost": c,
                     "recovered_amount": r})  # fmt: skip
    _bulk(session, CollectionAction, rows)
    report.inserted["collections"] = len(rows)


def _set_meta(session: Session, key: str, value: str, *, once: bool = False) -> None:
    row = session.get(Meta, key)
    if row is None:
        session.add(Meta(key=key, value=value))
    elif not once and row.value != value:
        row.value = value


def _calendar(session: Session, panel: pd.DataFrame | None, now: datetime) -> None:
    """Record the book's as-of month and, once, which calendar month it stands for."""
    if panel is None or panel.empty:
        return
    as_of = int(panel["Month"].max())
    stored = session.get(Meta, "as_of")
    if stored is None or int(stored.value) < as_of:
        _set_meta(session, "as_of", str(as_of))
    anchor = as_of if as_of >= _CALENDAR_FLOOR else calendar_month(now)
    _set_meta(session, "anchor", str(anchor), once=True)


def _open_cases(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Case).where(Case.is_open)) or 0)


def _record_arms(session: Session, share: float, seed: int) -> None:
    """Give the open cases without an arm the plan's arm of their loan."""
    rows = session.execute(
        select(Case.id, Case.loan_id).where(Case.is_open, Case.arm.is_(None))
    ).all()
    if not rows:
        return
    ids = [int(r[0]) for r in rows]
    loan_ids = [str(r[1]) for r in rows]
    challenger = assign_arms(np.array(loan_ids, dtype=object), share, seed)
    session.execute(update(Case), [
        {"id": i, "arm": "challenger" if c else "champion"}
        for i, c in zip(ids, challenger, strict=True)
    ])  # fmt: skip


def import_book(
    session: Session,
    loans: pd.DataFrame,
    payments: pd.DataFrame | None,
    collections: pd.DataFrame | None,
    *,
    source: str,
    actor: str,
    capacity: int,
    challenger_share: float = 0.0,
    seed: int = 0,
) -> ImportReport:
    """Store a validated book in the caller's transaction; open cases for delinquent loans
    and assign them by priority; with ``challenger_share`` > 0 (the bundle's), record each
    open case's arm as the plan assigns it (``assign_arms`` on the bundle's seed, so the same
    loan gets the same arm here and in ``plan.csv``). Returns what changed."""
    report = ImportReport()
    now = datetime.now(UTC)
    last_month: dict[str, int] = {}
    if payments is not None and not payments.empty:
        last_month = {str(k): int(v) for k, v in payments.groupby("Loan_ID")["Month"].max().items()}
    _borrowers(session, loans, report)
    new_loans, changed_loans = _loans(session, loans, last_month, report)
    session.flush()
    new_ids = {loan_id for loan_id, _dpd, _out in new_loans}
    old = [str(i) for i in loans["Loan_ID"].astype(str) if i not in new_ids]
    _panel(session, payments, old, report)
    _history(session, collections, old, report)
    _calendar(session, payments, now)
    session.flush()
    open_before = _open_cases(session)
    open_new_cases(session, new_loans, actor=actor)
    for loan_id in changed_loans:
        loan = session.get(Loan, loan_id)
        if loan is not None:
            sync_case(session, loan, actor=actor, capacity=capacity, assign=False)
    session.flush()
    report.cases_opened = _open_cases(session) - open_before
    if challenger_share > 0:
        _record_arms(session, challenger_share, seed)
    report.cases_assigned = assign_open_cases(session, capacity=capacity, actor=actor)
    if sum(report.inserted.values()) + sum(report.updated.values()) >= _ANALYZE_AFTER:
        analyze(session, (Borrower, Loan, PanelMonth, CollectionAction, Case))
    if report.changed:
        audit.record(
            session, actor=actor, action="book.imported", entity="book", entity_id=source,
            after={"inserted": report.inserted, "updated": report.updated,
                   "unchanged": report.unchanged, "cases_opened": report.cases_opened},
        )  # fmt: skip
    logger.info("import of %s: inserted %s, updated %s", source, report.inserted, report.updated)
    return report
