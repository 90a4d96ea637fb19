"""``scored_loans.csv``, ``watchlist.csv`` and ``plan.csv`` as views of the accounts table.

Every column a view shares with ``accounts.csv`` is copied from it (renamed where the view
keeps its own name, :data:`SHARED`), so the files cannot disagree about a loan; only the
columns that belong to one view (the loan table's inputs, the plan's costs, the watchlist's
months to default) come from elsewhere.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["SHARED", "scored_view", "watchlist_view", "plan_view", "refresh_view"]

#: Per view: its column -> the ``accounts.csv`` column it shows.
SHARED: dict[str, dict[str, str]] = {
    "scored": {
        "Loan_ID": "Loan_ID",
        "Segment": "Segment",
        "Risk_Score": "Risk_Score",
        "Strategy": "Recommended_Action",
        "Strategy_Rule": "Action_Why",
        "Status": "Status",
        "PD_3M": "PD_3M",
        "PD_6M": "PD_6M",
        "PD_12M": "PD_12M",
        "Priority_Rank": "Priority_Rank",
        "On_Watchlist": "On_Watchlist",
    },
    "watchlist": {
        "Loan_ID": "Loan_ID",
        "Borrower_ID": "Borrower_ID",
        "Days_Past_Due": "Days_Past_Due",
        "P3": "PD_3M",
        "P6": "PD_6M",
        "P12": "PD_12M",
        "Segment": "Segment",
        "Alert": "On_Watchlist",
        "Reasons": "Warning_Signs",
        "Priority_Rank": "Priority_Rank",
        "Recommended_Action": "Recommended_Action",
    },
    "plan": {
        "Priority_Rank": "Priority_Rank",
        "Loan_ID": "Loan_ID",
        "Borrower_ID": "Borrower_ID",
        "As_Of": "As_Of",
        "Outstanding": "Outstanding",
        "Days_Past_Due": "Days_Past_Due",
        "Status": "Status",
        "Segment": "Segment",
        "Risk_Score": "Risk_Score",
        "Action": "Recommended_Action",
        "Expected_Gain": "Expected_Gain",
        "Expected_Gain_Low": "Expected_Gain_Low",
        "Expected_Gain_High": "Expected_Gain_High",
        "Reason": "Action_Why",
        "Contact_Window": "Contact_Window",
    },
}


def _shared(accounts: pd.DataFrame, ids: pd.Series, view: str) -> pd.DataFrame:
    """The ``view``'s shared columns for the loans ``ids`` (in that order)."""
    by_id = accounts.set_index(accounts["Loan_ID"].astype(str))
    rows = by_id.reindex(ids.astype(str).to_numpy())
    return pd.DataFrame(
        {mine: rows[theirs].to_numpy() for mine, theirs in SHARED[view].items()},
        index=range(len(ids)),
    ).astype({mine: accounts[theirs].dtype for mine, theirs in SHARED[view].items()})


def scored_view(accounts: pd.DataFrame, loans: pd.DataFrame, reasons: pd.DataFrame) -> pd.DataFrame:
    """``scored_loans.csv``: Loan_ID, Segment, Risk_Score, Strategy, the loan table's columns,
    Strategy_Rule, the answer's status, probabilities, rank and alert, then the reasons
    (loan-table order)."""
    loans = loans.reset_index(drop=True)
    shared = _shared(accounts, loans["Loan_ID"], "scored")
    rest = loans.drop(columns=["Loan_ID"])
    lead = shared[["Loan_ID", "Segment", "Risk_Score", "Strategy"]]
    tail = shared.drop(columns=list(lead.columns))
    return pd.concat([lead, rest, tail, reasons.reset_index(drop=True)], axis=1)


def watchlist_view(accounts: pd.DataFrame, watchlist: pd.DataFrame | None) -> pd.DataFrame | None:
    """``watchlist.csv``: the watchlist's rank, month and months to default with the shared
    columns from ``accounts`` (alert, probabilities, segment, warning signs, action)."""
    if watchlist is None:
        return None
    listed = watchlist.reset_index(drop=True)
    shared = _shared(accounts, listed["Loan_ID"], "watchlist")
    own = listed[["Rank", "Month", "Expected_Months_To_Default"]]
    out = pd.concat([own, shared], axis=1)
    order = ["Rank", "Loan_ID", "Borrower_ID", "Month", "Days_Past_Due", "P3", "P6", "P12"]
    return out[[*order, *(c for c in out.columns if c not in order)]]


def plan_view(accounts: pd.DataFrame, plan: pd.DataFrame | None) -> pd.DataFrame | None:
    """``plan.csv``: the optimized plan's rows sorted by ``Priority_Rank``, with the shared
    columns from ``accounts`` and the plan's own figures (recovery, cost, net, the contact
    hour in UTC and local time, empty for an action that is not a contact, the days-past-due
    bucket the effects were estimated in, policy and arm)."""
    if plan is None:
        return None
    rows = plan.reset_index(drop=True)
    shared = _shared(accounts, rows["Loan_ID"], "plan")
    hour = pd.to_numeric(rows["Contact_Hour_UTC"])
    local = pd.to_numeric(rows["Local_Hour"])
    own = pd.DataFrame(
        {
            "Expected_Recovery": rows["Expected_Recovery"].to_numpy(),
            "Cost": rows["Cost"].to_numpy(),
            "Expected_Net": rows["Expected_Net"].to_numpy(),
            "Contact_Hour_UTC": hour.where(hour >= 0).astype("Int64").to_numpy(),
            "Local_Hour": local.where(local >= 0).astype("Int64").to_numpy(),
            "DPD_Bucket": rows["DPD_Bucket"].to_numpy(),
            "Policy": rows["Policy"].to_numpy(),
        }
    )
    if "Arm" in rows:
        own["Arm"] = rows["Arm"].to_numpy()
    return _by_rank(pd.concat([shared, own], axis=1))


def _by_rank(out: pd.DataFrame) -> pd.DataFrame:
    out = out.assign(_rank=out["Priority_Rank"].astype("float64").fillna(float("inf")))
    out = out.sort_values(["_rank", "Loan_ID"], kind="stable").drop(columns=["_rank"])
    return out.reset_index(drop=True)


def refresh_view(view: pd.DataFrame, accounts: pd.DataFrame, name: str) -> pd.DataFrame:
    """A view (``scored``, ``watchlist`` or ``plan``) made from an accounts table before its
    book-wide steps, with its shared columns copied again from ``accounts`` (the same
    accounts, rank and contact windows set); ``plan`` sorted by ``Priority_Rank`` again."""
    shared = _shared(accounts, view["Loan_ID"], name)
    out = view.reset_index(drop=True).copy()
    for column in SHARED[name]:
        if column in out.columns:
            out[column] = shared[column].to_numpy()
            out[column] = out[column].astype(shared[column].dtype)
    return _by_rank(out) if name == "plan" else out
