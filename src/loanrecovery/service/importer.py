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
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from loanrecovery.recovery.challenger import assign_arms
from loanrecovery.service import audit
from loanrecovery.service.cases import assign_open_cases, sync_case
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
    for start in range(0, len(rows), _CHUNK):
        session.execute(insert(model), rows[start : start + _CHUNK])


def _borrowers(session: Session, loans: pd.DataFrame, report: ImportReport) -> None:
    if "Borrower_ID" not in loans:
        return
    existing = set(session.scalars(select(Borrower.borrower_id)))
    first = loans.drop_duplicates("Borrower_ID")
    new: list[dict[str, Any]] = []
    for row in records(first):
        bid = row.get("Borrower_ID")
        if bid is None or bid in existing:
            continue
        offset = row.get("UTC_Offset")
        new.append(
            {
                "borrower_id": str(bid),
                "utc_offset": None if offset is None else int(offset),
                "contact_opt_out": str(row.get("Contact_Opt_Out", "No")).lower() in ("yes", "true"),
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
) -> list[str]:
    existing = {loan.loan_id: loan for loan in session.scalars(select(Loan))}
    now = datetime.now(UTC)
    new, touched, same = [], [], 0
    for row in records(loans):
        loan_id = str(row["Loan_ID"])
        state = _loan_state(row, last_month.get(loan_id))
        stored = existing.get(loan_id)
        if stored is None:
            borrower = row.get("Borrower_ID")
            new.append(
                {"loan_id": loan_id, "borrower_id": None if borrower is None else str(borrower),
                 "data": row, "updated_at": now} | state
            )  # fmt: skip
        elif stored.data != row:
            stored.data = row
            for key, value in state.items():
                setattr(stored, key, value)
            stored.updated_at = now
            touched.append(loan_id)
        else:
            same += 1
    _bulk(session, Loan, new)
    report.inserted["loans"], report.updated["loans"], report.unchanged["loans"] = (
        len(new), len(touched), same,
    )  # fmt: skip
    return [r["loan_id"] for r in new] + touched


def _panel(session: Session, panel: pd.DataFrame | None, report: ImportReport) -> None:
    if panel is None or panel.empty:
        report.inserted["panel"] = 0
        return
    existing = {tuple(r) for r in session.execute(select(PanelMonth.loan_id, PanelMonth.month))}
    rows = [
        {
            "loan_id": str(r["Loan_ID"]),
            "month": int(r["Month"]),
            "amount_due": float(r["Amount_Due"]),
            "amount_paid": float(r["Amount_Paid"]),
            "days_past_due": float(r["Days_Past_Due"]),
            "outstanding_balance": float(r["Outstanding_Balance"]),
        }
        for r in records(panel)
        if (str(r["Loan_ID"]), int(r["Month"])) not in existing
    ]
    _bulk(session, PanelMonth, rows)
    report.inserted["panel"], report.unchanged["panel"] = len(rows), len(panel) - len(rows)


def _history(session: Session, history: pd.DataFrame | None, report: ImportReport) -> None:
    if history is None or history.empty:
        report.inserted["collections"] = 0
        return
    existing = {
        tuple(r)
        for r in session.execute(
            select(CollectionAction.loan_id, CollectionAction.month, CollectionAction.action)
        )
    }
    rows, seen = [], set()
    for r in records(history):
        key = (str(r["Loan_ID"]), int(r["Month"]), str(r["Action"]))
        if key in existing or key in seen:
            continue
        seen.add(key)
        rows.append(
            {"loan_id": key[0], "month": key[1], "action": key[2],
             "cost": float(r.get("Cost") or 0.0),
             "recovered_amount": float(r.get("Recovered_Amount") or 0.0)}
        )  # fmt: skip
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
    changed_loans = _loans(session, loans, last_month, report)
    session.flush()
    _panel(session, payments, report)
    _history(session, collections, report)
    _calendar(session, payments, now)
    session.flush()
    open_before = _open_cases(session)
    for loan_id in changed_loans:
        loan = session.get(Loan, loan_id)
        if loan is not None:
            sync_case(session, loan, actor=actor, capacity=capacity, assign=False)
    session.flush()
    report.cases_opened = _open_cases(session) - open_before
    if challenger_share > 0:
        _record_arms(session, challenger_share, seed)
    report.cases_assigned = assign_open_cases(session, capacity=capacity, actor=actor)
    if report.changed:
        audit.record(
            session, actor=actor, action="book.imported", entity="book", entity_id=source,
            after={"inserted": report.inserted, "updated": report.updated,
                   "unchanged": report.unchanged, "cases_opened": report.cases_opened},
        )  # fmt: skip
    logger.info("import of %s: inserted %s, updated %s", source, report.inserted, report.updated)
    return report
