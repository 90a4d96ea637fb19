"""Reading the stored book back (loans with their current state, the payment panel and the
collection history) into a :class:`~loanrecovery.contract.book.Book`, through the data
contract, as ``import`` stored it (the monthly refresh fits and applies a bundle on it)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from loanrecovery.contract.book import Book, validate_book
from loanrecovery.service.db.models import CollectionAction, Loan, PanelMonth
from loanrecovery.service.scoring import loan_row

__all__ = ["read_stored_book", "PANEL_COLUMNS", "HISTORY_COLUMNS"]

#: payments.csv and collections.csv columns, as the tables store them.
PANEL_COLUMNS = [
    "Loan_ID", "Month", "Amount_Due", "Amount_Paid", "Days_Past_Due", "Outstanding_Balance",
]  # fmt: skip
HISTORY_COLUMNS = ["Loan_ID", "Month", "Action", "Cost", "Recovered_Amount"]

_BATCH = 20_000


def _loans(session: Session) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    query = select(Loan).order_by(Loan.loan_id).execution_options(yield_per=_BATCH)
    for loan in session.scalars(query):
        rows.append(loan_row(loan))
    session.expunge_all()  # the refresh reads every loan once: keep no identity map
    return pd.DataFrame(rows)


def _frame(session: Session, query: Any, columns: list[str]) -> pd.DataFrame | None:
    result = session.execute(query.execution_options(yield_per=_BATCH))
    parts = [pd.DataFrame(list(chunk), columns=columns) for chunk in result.partitions()]
    if not parts:
        return None
    return pd.concat(parts, ignore_index=True)


def read_stored_book(session: Session, *, source: str) -> Book:
    """The stored book, validated by the contract (in a stable order: loans by id, the panel
    by loan and month, the history in the order it was stored), so that reading an unchanged
    database twice gives the same :meth:`Book.fingerprint`.

    Raises
    ------
    DataFileError
        If no stored loan passes the contract (or nothing is stored).
    """
    loans = _loans(session)
    panel = _frame(
        session,
        select(
            PanelMonth.loan_id, PanelMonth.month, PanelMonth.amount_due, PanelMonth.amount_paid,
            PanelMonth.days_past_due, PanelMonth.outstanding_balance,
        ).order_by(PanelMonth.loan_id, PanelMonth.month),
        PANEL_COLUMNS,
    )  # fmt: skip
    history = _frame(
        session,
        select(
            CollectionAction.loan_id, CollectionAction.month, CollectionAction.action,
            CollectionAction.cost, CollectionAction.recovered_amount,
        ).order_by(CollectionAction.id),
        HISTORY_COLUMNS,
    )  # fmt: skip
    if history is not None:
        history = _at_action(history, panel, loans)
    return validate_book(loans, panel, history, source=source)


def _at_action(
    history: pd.DataFrame, panel: pd.DataFrame | None, loans: pd.DataFrame
) -> pd.DataFrame:
    """The history's ``Days_Past_Due_At_Action`` and ``Balance_At_Action`` (not stored): the
    panel month of the action, else the loan's current state."""
    out = history.copy()
    if panel is not None:
        at = panel.set_index(["Loan_ID", "Month"])[["Days_Past_Due", "Outstanding_Balance"]]
        keys = pd.MultiIndex.from_arrays([out["Loan_ID"], out["Month"]])
        found = at.reindex(keys)
        out["Days_Past_Due_At_Action"] = found["Days_Past_Due"].to_numpy()
        out["Balance_At_Action"] = found["Outstanding_Balance"].to_numpy()
    else:
        out["Days_Past_Due_At_Action"] = float("nan")
        out["Balance_At_Action"] = float("nan")
    state = loans.set_index("Loan_ID").reindex(out["Loan_ID"])
    out["Days_Past_Due_At_Action"] = out["Days_Past_Due_At_Action"].fillna(
        pd.Series(state["Days_Past_Due"].to_numpy(dtype=float), index=out.index)
    )
    out["Balance_At_Action"] = out["Balance_At_Action"].fillna(
        pd.Series(state["Outstanding_Loan_Amount"].to_numpy(dtype=float), index=out.index)
    )
    return out
