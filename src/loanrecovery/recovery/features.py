"""Features of a collection decision: the account at the moment an action is chosen.

The same function describes history rows (``collections.csv``) and the loans delinquent at
the snapshot, so that effect models fitted on history apply to today's accounts. Only what
the lender knows at decision time is used: loan terms, borrower attributes, delinquency,
balance, arrears, ratios of them (collateral / balance, arrears / installment, income /
balance), the payment pattern up to the decision month (shortfall EWMA, share paid last
month, months with no payment in the last 6, months paid in full in the last 12, months
since the last full payment) and, on request, the dates and kinds of the account's
*earlier* collection actions (:func:`prior_actions`: an account already in a legal case
gains little from a new step). The loan table's treatment, outcome and protected columns
(``Collection_*``, ``Legal_Action_Taken``, ``Recovery_Status``, ``Default_Next_6M``,
``Gender``: snapshot summaries that include the decision itself and later ones) never
enter, nor does any recovered amount or cost.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loanrecovery.contract.schema import LOAN_SPECS, Kind, Role, columns_with_role
from loanrecovery.delinquency import DEFAULT_DPD, DELINQUENT_DPD

__all__ = [
    "DELINQUENT_DPD",  # defined in loanrecovery.delinquency
    "planned_loans",
    "decision_features",
    "snapshot_cases",
    "code_categories",
    "prior_actions",
    "dpd_bucket",
    "STATIC_COLUMNS",
    "PRIOR_ACTION_COLUMNS",
]

#: Not in the contract: the simulator's contact opt-out flag ("Yes"/"No").
_OPT_OUT = "Contact_Opt_Out"

#: Loan-level columns used as features when present: the contract's borrower and loan
#: columns (canonical order), then the contact opt-out flag.
STATIC_COLUMNS: tuple[str, ...] = (*columns_with_role(Role.BORROWER, Role.LOAN), _OPT_OUT)
_CATEGORICAL: tuple[str, ...] = (
    *(s.name for s in LOAN_SPECS if s.name in STATIC_COLUMNS and s.kind is Kind.CATEGORY),
    _OPT_OUT,
)


def dpd_bucket(days_past_due: np.ndarray, secured: np.ndarray) -> np.ndarray:
    """Days-past-due bucket x secured, e.g. ``'60-89|secured'`` (the plan's ``DPD_Bucket``;
    the risk segment is the risk stage's, :mod:`loanrecovery.segmentation`)."""
    dpd = np.asarray(days_past_due, dtype=float)
    bucket = np.where(dpd >= DEFAULT_DPD, "90+", np.where(dpd >= 60, "60-89", "30-59"))
    kind = np.where(np.asarray(secured, dtype=bool), "secured", "unsecured")
    return np.char.add(np.char.add(bucket.astype(str), "|"), kind)


def _payment_state(payments: pd.DataFrame) -> pd.DataFrame:
    """Per loan and month: arrears, shortfall EWMA and the recent payment pattern.

    Every column of a month uses that month's payment and earlier ones only, so a
    history row (the action chosen after the month's payment) sees nothing later.
    """
    p = payments.sort_values(["Loan_ID", "Month"], kind="stable")
    due = p["Amount_Due"].to_numpy(dtype=float)
    paid = p["Amount_Paid"].to_numpy(dtype=float)
    billed = due > 0
    short = np.where(billed, np.clip(1.0 - paid / np.maximum(due, 1e-9), 0.0, 1.0), 0.0)
    ewma = np.zeros(len(p))
    loan = p["Loan_ID"].to_numpy()
    new_loan = np.r_[True, loan[1:] != loan[:-1]]
    acc = 0.0
    for i in range(len(p)):  # sequential by construction (an EWMA)
        acc = short[i] * 0.3 + (0.0 if new_loan[i] else 0.7 * acc)
        ewma[i] = acc
    full = ~billed | (short <= 0.01)
    nothing = billed & (short >= 0.99)
    month = p["Month"].to_numpy(dtype=np.int64)
    # calendar key per loan: months of different loans are never in one window
    key = np.cumsum(new_loan) * (int(month.max(initial=0)) + 100) + month
    start_of_loan = np.maximum.accumulate(np.where(new_loan, np.arange(len(p)), 0))
    last_full = np.maximum.accumulate(np.where(full, np.arange(len(p)), -1))
    since = np.where(
        last_full >= start_of_loan,
        month - month[np.maximum(last_full, 0)],
        month - month[start_of_loan] + 1,
    )
    return pd.DataFrame(
        {
            "Loan_ID": loan,
            "Month": month,
            "Shortfall_EWMA": ewma,
            "Arrears_Now": np.maximum(due - paid, 0.0),
            "Paid_Share_Last": 1.0 - short,
            "No_Payment_Share_6M": _window_share(nothing, key, 6),
            "Full_Payment_Share_12M": _window_share(full, key, 12),
            "Months_Since_Full_Payment": since,
        }
    )


def _window_share(flag: np.ndarray, key: np.ndarray, months: int) -> np.ndarray:
    """Share of the recorded months among the last ``months`` calendar months (this one
    included) of the same loan where ``flag`` holds; ``key`` is sorted, one loan a block."""
    total = np.r_[0, np.cumsum(flag.astype(float))]
    first = np.searchsorted(key, key - months + 1, side="left")
    rows = np.arange(len(key)) + 1
    return (total[rows] - total[first]) / (rows - first)


#: Payment-pattern columns of :func:`_payment_state` used as decision features.
_PATTERN = (
    "Shortfall_EWMA",
    "Paid_Share_Last",
    "No_Payment_Share_6M",
    "Full_Payment_Share_12M",
    "Months_Since_Full_Payment",
)


def code_categories(features: pd.DataFrame, *, regather: bool = False) -> pd.DataFrame:
    """The categorical decision features as categories of the values present (the effect
    models read their codes).

    ``regather=True`` for features of several parts of a book put together (each part coded
    over its own values): they are coded again over the values of all of them, as
    :func:`snapshot_cases` codes the whole book at once.
    """
    out = features.copy()
    for col in _CATEGORICAL:
        if col in out:
            values = out[col].astype(object) if regather else out[col]
            out[col] = values.astype("category")
    return out


def _with_static(frame: pd.DataFrame, loans: pd.DataFrame) -> pd.DataFrame:
    cols = ["Loan_ID", *[c for c in STATIC_COLUMNS if c in loans.columns]]
    out = code_categories(frame.merge(loans[cols], on="Loan_ID", how="left"))
    if "Monthly_EMI" in out and "Monthly_Income" in out:
        out["EMI_To_Income"] = out["Monthly_EMI"] / out["Monthly_Income"].replace(0, np.nan)
    balance = out["Balance"].clip(lower=1.0)
    if "Collateral_Value" in out:  # loan-to-value: what a forced sale could cover
        out["Collateral_To_Balance"] = out["Collateral_Value"] / balance
    if "Arrears" in out and "Monthly_EMI" in out:  # installments behind
        out["Arrears_To_EMI"] = out["Arrears"] / out["Monthly_EMI"].replace(0, np.nan)
    if "Monthly_Income" in out:  # how far a lump sum is within the borrower's reach
        out["Income_To_Balance"] = out["Monthly_Income"] / balance
    return out


#: Columns of :func:`prior_actions`.
PRIOR_ACTION_COLUMNS: tuple[str, ...] = (
    "Months_Since_Last_Action",
    "Actions_Last_12M",
    "Months_Since_Legal_Action",
)


def prior_actions(
    collections: pd.DataFrame, loan_ids: np.ndarray, months: np.ndarray
) -> pd.DataFrame:
    """What the lender already did to each account before a decision.

    For decision ``i`` (loan ``loan_ids[i]`` in month ``months[i]``) only the loan's
    actions of *earlier* months count (their dates and kinds, never their outcomes or
    costs): months since the last action and since the last legal action (``nan`` if
    none; a legal case already under way changes what any new action can add) and the
    number of actions in the 12 months before.

    Returns
    -------
    DataFrame
        :data:`PRIOR_ACTION_COLUMNS`, one row per decision, in the given order.
    """
    n = len(loan_ids)
    asked = pd.DataFrame({"Loan_ID": loan_ids, "Month": months, "_row": np.arange(n)})
    past = collections[["Loan_ID", "Month", "Action"]].rename(columns={"Month": "_done"})
    pairs = asked.merge(past, on="Loan_ID", how="inner")
    pairs = pairs[pairs["_done"] < pairs["Month"]]
    ago = (pairs["Month"] - pairs["_done"]).astype(float)
    rows = pairs["_row"].to_numpy()
    recent = (ago <= 12).to_numpy()
    legal = (pairs["Action"] == "Legal Action").to_numpy()
    out = pd.DataFrame(index=pd.RangeIndex(n))
    out["Months_Since_Last_Action"] = ago.groupby(rows).min()
    out["Actions_Last_12M"] = (
        pd.Series(recent.astype(float)).groupby(rows).sum().reindex(out.index, fill_value=0.0)
    )
    out["Months_Since_Legal_Action"] = ago[legal].groupby(rows[legal]).min()
    return out.reindex(columns=list(PRIOR_ACTION_COLUMNS))


def decision_features(
    collections: pd.DataFrame,
    loans: pd.DataFrame,
    payments: pd.DataFrame | None = None,
    *,
    prior: bool = False,
) -> pd.DataFrame:
    """Features of every history row (same row order as ``collections``).

    With ``prior=True`` the :func:`prior_actions` of each row are added, taken from the
    earlier rows of ``collections`` itself (pass the whole history, not a sample).
    """
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
        state = _payment_state(payments)[["Loan_ID", "Month", *_PATTERN]]
        frame = frame.merge(state, on=["Loan_ID", "Month"], how="left")
    if prior:
        done = prior_actions(collections, frame["Loan_ID"].to_numpy(), frame["Month"].to_numpy())
        frame = pd.concat([frame, done], axis=1)
    return _with_static(frame, loans).drop(columns=["Month"])


def planned_loans(loans: pd.DataFrame) -> np.ndarray:
    """Loans a recovery plan covers: active (by ``Loan_Status`` when present) and at least
    :data:`DELINQUENT_DPD` days past due."""
    status_ok = (
        loans["Loan_Status"].eq("Active").to_numpy()
        if "Loan_Status" in loans
        else np.ones(len(loans), dtype=bool)
    )
    dpd = pd.to_numeric(loans["Days_Past_Due"], errors="coerce").fillna(0).to_numpy()
    return status_ok & (dpd >= DELINQUENT_DPD)


def snapshot_cases(
    loans: pd.DataFrame,
    payments: pd.DataFrame | None = None,
    collections: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The loans to plan for (active and at least ``DELINQUENT_DPD`` = 30 days past due) and
    their features.

    With ``collections`` (every past action, outcome closed or not) the
    :func:`prior_actions` of each case are added: actions of months before the snapshot
    month (``Snapshot_Month``; without it, every action counts and months are counted from
    the month after the latest one). Pair it with ``decision_features(..., prior=True)``.

    Returns
    -------
    cases, features : DataFrame
        ``cases`` holds the loan rows; ``features`` the decision features, same order.
    """
    cases = loans.loc[planned_loans(loans)].reset_index(drop=True)
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
        last = last.rename(columns={"Arrears_Now": "Arrears"})[["Loan_ID", "Arrears", *_PATTERN]]
        frame = frame.merge(last, on="Loan_ID", how="left")
    if collections is not None:
        if "Snapshot_Month" in loans and len(loans):
            month = int(pd.to_numeric(loans["Snapshot_Month"]).max())
        else:
            month = int(pd.to_numeric(collections["Month"]).max(skipna=True) or 0) + 1
        done = prior_actions(collections, frame["Loan_ID"].to_numpy(), np.full(len(frame), month))
        frame = pd.concat([frame, done], axis=1)
    return cases, _with_static(frame, loans)
