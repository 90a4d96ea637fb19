"""What days past due mean: the book's definitions of delinquent, in default and closed.

Every stage that sorts loans by how late they are uses these names, so each rule is written
once. This module depends on nothing else in the package, so any stage may import it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "DELINQUENT_DPD",
    "DEFAULT_DPD",
    "FUTURE_TARGET",
    "CLOSED_STATUSES",
    "CHARGED_OFF_STATUSES",
    "closed_loans",
    "inactive_loans",
    "loan_states",
]

#: Days past due from which a loan is delinquent: worked by collections, and planned for.
DELINQUENT_DPD = 30

#: Days past due from which a loan is in default (the risk models' bad outcome).
DEFAULT_DPD = 90

#: The future outcome of the canonical layout: 1 when the loan is ``DEFAULT_DPD``+ days
#: past due within the 6 months after the snapshot (the simulator writes it).
FUTURE_TARGET = "Default_Next_6M"


#: ``Loan_Status`` values of an account that is closed: nothing more to collect or to warn of.
CLOSED_STATUSES = frozenset({"Paid Off", "Settled", "Repossessed", "Closed"})

#: ``Loan_Status`` values of an account written off the books.
CHARGED_OFF_STATUSES = frozenset({"Charged Off", "Written Off"})


def closed_loans(loans: pd.DataFrame) -> np.ndarray:
    """Loans with nothing outstanding and nothing past due: paid off or settled."""
    outstanding = pd.to_numeric(loans["Outstanding_Loan_Amount"], errors="coerce").fillna(1.0)
    dpd = pd.to_numeric(loans["Days_Past_Due"], errors="coerce").fillna(0.0)
    return ((outstanding <= 0) & (dpd <= 0)).to_numpy()


def loan_states(loans: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Loans in default (``DEFAULT_DPD``+ days past due) and closed loans (nothing owed,
    nothing past due, not in default), as the future target treats them."""
    dpd = pd.to_numeric(loans["Days_Past_Due"], errors="coerce").to_numpy(dtype=float)
    in_default = dpd >= DEFAULT_DPD
    return in_default, closed_loans(loans) & ~in_default


def inactive_loans(loans: pd.DataFrame) -> np.ndarray:
    """Loans that are closed, settled, repossessed or charged off: never warned of, planned for
    or ranked (by ``Loan_Status`` when present, and loans with nothing owed nor past due when
    the table has both columns)."""
    has_balance = {"Outstanding_Loan_Amount", "Days_Past_Due"} <= set(loans.columns)
    out = closed_loans(loans) if has_balance else np.zeros(len(loans), dtype=bool)
    if "Loan_Status" in loans.columns:
        status = loans["Loan_Status"].astype("string").str.strip().fillna("")
        out = out | status.isin(CLOSED_STATUSES | CHARGED_OFF_STATUSES).to_numpy()
    return np.asarray(out, dtype=bool)
