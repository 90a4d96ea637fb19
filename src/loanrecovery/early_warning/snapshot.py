"""The loan table as it would have looked at a given month (for the snapshot baseline).

The foundation's snapshot model reads one row per loan in the canonical 21-column layout,
whose behaviour columns describe the loan *at the snapshot*. To compare it fairly with the
early-warning models on loan-months, :func:`snapshot_rows` rebuilds those behaviour columns
as of each loan-month from the panel up to that month only:

* ``Days_Past_Due`` = days past due that month;
* ``Num_Missed_Payments`` = missed payments so far in the panel;
* ``Payment_History`` = that month's payment ("On-Time", "Delayed" for a partial payment,
  "Missed");
* ``Outstanding_Loan_Amount`` = balance that month.

Borrower and origination columns are copied from the loan table. No window or trend of the
history (ratios over months, recency, maxima) is used: that is what the early-warning models
add.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loanrecovery.contract.schema import Role, columns_with_role
from loanrecovery.early_warning.features import FULL_SHARE, MISSED_SHARE

__all__ = ["snapshot_rows", "STATIC_LOAN_COLUMNS"]

#: Loan-table columns copied as they are: the contract's identifier, borrower and loan
#: (origination) columns, in canonical order. Protected, behaviour, treatment and outcome
#: columns are not copied.
STATIC_LOAN_COLUMNS: tuple[str, ...] = tuple(
    columns_with_role(Role.IDENTIFIER, Role.BORROWER, Role.LOAN)
)


def snapshot_rows(panel: pd.DataFrame, loans: pd.DataFrame) -> pd.DataFrame:
    """One canonical loan row per panel row, with behaviour columns as of that month.

    Parameters
    ----------
    panel : DataFrame
        Validated panel sorted by ``Loan_ID`` then ``Month``.
    loans : DataFrame
        The loan table.

    Returns
    -------
    DataFrame
        Same row order as ``panel``; the canonical columns needed by
        :class:`loanrecovery.features.LoanFeatures` (treatment and outcome columns absent).
    """
    p = panel.reset_index(drop=True)
    table = loans.copy()
    table["Loan_ID"] = table["Loan_ID"].astype("string").str.strip()
    table = table.drop_duplicates("Loan_ID").set_index("Loan_ID")
    cols = [c for c in STATIC_LOAN_COLUMNS if c != "Loan_ID" and c in table.columns]
    out = table.reindex(p["Loan_ID"])[cols].reset_index()
    due = p["Amount_Due"].to_numpy(dtype=np.float64)
    paid = p["Amount_Paid"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(due > 0, paid / np.where(due > 0, due, 1.0), 1.0)
    missed = (due > 0) & (share < MISSED_SHARE)
    partial = (due > 0) & ~missed & (share < FULL_SHARE)
    out["Days_Past_Due"] = p["Days_Past_Due"].to_numpy()
    out["Num_Missed_Payments"] = (
        pd.Series(missed.astype(np.int64)).groupby(p["Loan_ID"].to_numpy()).cumsum().to_numpy()
    )
    out["Payment_History"] = np.where(missed, "Missed", np.where(partial, "Delayed", "On-Time"))
    out["Outstanding_Loan_Amount"] = p["Outstanding_Balance"].to_numpy()
    out["Month"] = p["Month"].to_numpy()
    return out
