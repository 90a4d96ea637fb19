"""Features of a collection decision: the account at the moment an action is chosen.

The same function describes history rows (``collections.csv``) and the loans delinquent at
the snapshot, so that effect models fitted on history apply to today's accounts. Only what
the lender knows at decision time is used: loan terms, borrower attributes, delinquency,
balance, arrears and the recent payment shortfall. Treatment, outcome and protected columns
(``Collection_*``, ``Legal_Action_Taken``, ``Recovery_Status``, ``Default_Next_6M``,
``Gender``) never enter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loanrecovery.contract.schema import LOAN_SPECS, Kind, Role, columns_with_role

__all__ = ["decision_features", "snapshot_cases", "segment_of", "STATIC_COLUMNS"]

#: Not in the contract: the simulator's contact opt-out flag ("Yes"/"No").
_OPT_OUT = "Contact_Opt_Out"

#: Loan-level columns used as features when present: the contract's borrower and loan
#: columns (canonical order), then the contact opt-out flag.
STATIC_COLUMNS: tuple[str, ...] = (*columns_with_role(Role.BORROWER, Role.LOAN), _OPT_OUT)
_CATEGORICAL: tuple[str, ...] = (
    *(s.name for s in LOAN_SPECS if s.name in STATIC_COLUMNS and s.kind is Kind.CATEGORY),
    _OPT_OUT,
)


def segment_of(days_past_due: np.ndarray, secured: np.ndarray) -> np.ndarray:
    """Segment label: days-past-due bucket x secured, e.g. ``'60-89|secured'``."""
    dpd = np.asarray(days_past_due, dtype=float)
    bucket = np.where(dpd >= 90, "90+", np.where(dpd >= 60, "60-89", "30-59"))
    kind = np.where(np.asarray(secured, dtype=bool), "secured", "unsecured")
    return np.char.add(np.char.add(bucket.astype(str), "|"), kind)


def _payment_state(payments: pd.DataFrame) -> pd.DataFrame:
    """Per loan and month: arrears after the month's payment and the shortfall EWMA."""
    p = payments.sort_values(["Loan_ID", "Month"])
    due = p["Amount_Due"].to_numpy(dtype=float)
    paid = p["Amount_Paid"].to_numpy(dtype=float)
    short = np.clip(1.0 - paid / np.maximum(due, 1e-9), 0.0, 1.0)
    short = np.where(due > 0, short, 0.0)
    ewma = np.zeros(len(p))
    loan = p["Loan_ID"].to_numpy()
    new_loan = np.r_[True, loan[1:] != loan[:-1]]
    acc = 0.0
    for i in range(len(p)):  # sequential by construction (an EWMA)
        acc = short[i] * 0.3 + (0.0 if new_loan[i] else 0.7 * acc)
        ewma[i] = acc
    return pd.DataFrame(
        {
            "Loan_ID": loan,
            "Month": p["Month"].to_numpy(),
            "Shortfall_EWMA": ewma,
            "Arrears_Now": np.maximum(due - paid, 0.0),
        }
    )


def _with_static(frame: pd.DataFrame, loans: pd.DataFrame) -> pd.DataFrame:
    cols = ["Loan_ID", *[c for c in STATIC_COLUMNS if c in loans.columns]]
    out = frame.merge(loans[cols], on="Loan_ID", how="left")
    for col in _CATEGORICAL:
        if col in out:
            out[col] = out[col].astype("category")
    if "Monthly_EMI" in out and "Monthly_Income" in out:
        out["EMI_To_Income"] = out["Monthly_EMI"] / out["Monthly_Income"].replace(0, np.nan)
    return out


def decision_features(
    collections: pd.DataFrame, loans: pd.DataFrame, payments: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Features of every history row (same row order as ``collections``)."""
    frame = pd.DataFrame(
        {
            "Loan_ID": collections["Loan_ID"].to_numpy(),
            "Month": collections["Month"].to_numpy(),
            "Days_Past_Due": collections["Days_Past_Due_At_Action"].to_numpy(dtype=float),
            "Balance": collections["Balance_At_Action"].to_numpy(dtype=float),
        }
    )
    if "Arrears_At_Action" in collections:
        frame["Arrears"] = collections["Arrears_At_Action"].to_numpy(dtype=float)
    if payments is not None and len(payments):
        state = _payment_state(payments)[["Loan_ID", "Month", "Shortfall_EWMA"]]
        frame = frame.merge(state, on=["Loan_ID", "Month"], how="left")
    return _with_static(frame, loans).drop(columns=["Month"])


def snapshot_cases(
    loans: pd.DataFrame, payments: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The loans to plan for (active and at least 30 days past due) and their features.

    Returns
    -------
    cases, features : DataFrame
        ``cases`` holds the loan rows; ``features`` the decision features, same order.
    """
    status_ok = loans["Loan_Status"].eq("Active") if "Loan_Status" in loans else True
    dpd = pd.to_numeric(loans["Days_Past_Due"], errors="coerce").fillna(0)
    cases = loans.loc[status_ok & (dpd >= 30)].reset_index(drop=True)
    frame = pd.DataFrame(
        {
            "Loan_ID": cases["Loan_ID"].to_numpy(),
            "Days_Past_Due": pd.to_numeric(cases["Days_Past_Due"]).to_numpy(dtype=float),
            "Balance": pd.to_numeric(cases["Outstanding_Loan_Amount"]).to_numpy(dtype=float),
        }
    )
    if payments is not None and len(payments):
        state = _payment_state(payments)
        last = state.sort_values("Month").groupby("Loan_ID").tail(1)
        last = last.rename(columns={"Arrears_Now": "Arrears"})[
            ["Loan_ID", "Arrears", "Shortfall_EWMA"]
        ]
        frame = frame.merge(last, on="Loan_ID", how="left")
    return cases, _with_static(frame, loans)
