"""The watchlist: performing loans at the latest month, ranked, with reasons in plain words.

Reasons are the features that push the 3-month probability up the most for that loan
(TreeSHAP contributions of the horizon model), written as sentences with the loan's own
values ("2 missed payments in the last 3 months", "45 days past due"). They are written for
the alert list and the band just below it (twice the alert budget); lower-risk loans have
an empty ``Reasons``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from loanrecovery.early_warning.features import (
    EMPLOYMENT_TYPES,
    FEATURE_LABELS,
    FULL_SHARE,
    LOAN_TYPES,
    NEVER_MONTHS,
)

__all__ = [
    "WATCHLIST_COLUMNS",
    "describe_reason",
    "reason_allowed",
    "top_reasons",
    "build_watchlist",
    "alert_slots",
]

#: Columns of ``watchlist.csv``.
WATCHLIST_COLUMNS: tuple[str, ...] = (
    "Rank",
    "Loan_ID",
    "Borrower_ID",
    "Month",
    "Days_Past_Due",
    "P3",
    "P6",
    "P12",
    "Expected_Months_To_Default",
    "Segment",
    "Alert",
    "Reasons",
)


def _plural(n: float, word: str) -> str:
    k = int(round(n))
    return f"{k} {word}" if k == 1 else f"{k} {word}s"


def _window(name: str) -> int:
    return int(name.rsplit("_", 1)[1])


def _level(levels: tuple[str, ...], code: float, what: str) -> str:
    i = int(code)
    return f"{levels[i]} {what}" if 0 <= i < len(levels) else f"unknown {what} type"


def _since(v: float, what: str) -> str:
    if v >= NEVER_MONTHS:
        return f"no {what} on record"
    if v == 0:
        return f"{what} this month"
    return f"last {what} {_plural(v, 'month')} ago"


_PHRASES: dict[str, Callable[[str, float], str]] = {
    "DPD": lambda n, v: f"{v:.0f} days past due",
    "DPD_Change_1": lambda n, v: (
        f"days past due {'up' if v >= 0 else 'down'} {abs(v):.0f} since last month"
    ),
    "DPD_Change_3": lambda n, v: (
        f"days past due {'up' if v >= 0 else 'down'} {abs(v):.0f} over 3 months"
    ),
    "DPD_Max_6": lambda n, v: f"reached {v:.0f} days past due in the last 6 months",
    "DPD_Max_12": lambda n, v: f"reached {v:.0f} days past due in the last 12 months",
    "DPD_Max_Ever": lambda n, v: f"has been {v:.0f} days past due before",
    "Months_Since_Missed": lambda n, v: _since(v, "missed payment"),
    "Months_Since_Partial": lambda n, v: _since(v, "partial payment"),
    "Months_Since_Full": lambda n, v: (
        "no full payment on record"
        if v >= NEVER_MONTHS
        else ("paid in full this month" if v == 0 else f"no full payment for {_plural(v, 'month')}")
    ),
    "Balance_Vs_Schedule": lambda n, v: f"balance {100 * (v - 1):+.0f}% against the schedule",
    "Balance_To_Amount": lambda n, v: f"{100 * v:.0f}% of the amount lent still owed",
    "Due_To_EMI": lambda n, v: f"amount due {v:.1f}x the instalment",
    "Interest_Rate": lambda n, v: f"interest rate {v:.1f}%",
    "Age": lambda n, v: f"borrower aged {v:.0f}",
    "Employment_Code": lambda n, v: _level(EMPLOYMENT_TYPES, v, "employment"),
    "Loan_Type_Code": lambda n, v: _level(LOAN_TYPES, v, "loan"),
    "EMI_To_Income": lambda n, v: f"instalment {100 * v:.0f}% of income",
    "Monthly_Income": lambda n, v: f"monthly income {v:,.0f}",
    "Loan_Tenure": lambda n, v: f"{v:.0f}-month tenure",
    "Loan_Amount": lambda n, v: f"loan amount {v:,.0f}",
    "Monthly_EMI": lambda n, v: f"instalment {v:,.0f}",
    "Num_Dependents": lambda n, v: _plural(v, "dependent"),
    "Secured": lambda n, v: "secured loan" if v >= 0.5 else "unsecured loan",
    "Months_On_Book": lambda n, v: f"{v:.0f} months since origination",
    "Months_Remaining": lambda n, v: f"{v:.0f} months left to maturity",
}


def describe_reason(feature: str, value: float) -> str:
    """One feature value in plain words.

    Parameters
    ----------
    feature : str
        A feature name of :mod:`loanrecovery.early_warning.features`.
    value : float
        The loan's value.

    Returns
    -------
    str
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"{FEATURE_LABELS.get(feature, feature)} unknown"
    if feature in _PHRASES:
        return _PHRASES[feature](feature, float(value))
    if feature.startswith("Pay_Ratio_"):
        w = _window(feature)
        span = "last month" if w == 1 else f"the last {w} months"
        return f"paid {100 * value:.0f}% of what was due over {span}"
    if feature.startswith("Missed_"):
        return f"{_plural(value, 'missed payment')} in the last {_window(feature)} months"
    if feature.startswith("Partial_"):
        return f"{_plural(value, 'partial payment')} in the last {_window(feature)} months"
    return f"{FEATURE_LABELS.get(feature, feature)}: {value:,.4g}"


def _worse_when(feature: str, value: float) -> bool | None:
    """Whether ``value`` of ``feature`` is on the risky side (None: no fixed side)."""
    if feature == "DPD" or feature.startswith(("Missed_", "Partial_", "DPD_Max_", "DPD_Change_")):
        return value > 0
    if feature.startswith("Pay_Ratio_"):
        return value < FULL_SHARE
    if feature in ("Months_Since_Missed", "Months_Since_Partial"):
        return value < 6
    if feature == "Months_Since_Full":
        return value >= 1
    if feature == "Due_To_EMI":
        return value > 1.05
    if feature == "Balance_Vs_Schedule":
        return value > 1.0
    if feature == "Secured":
        return value < 0.5
    return None


def reason_allowed(feature: str, value: float, raises: bool) -> bool:
    """False when the reason would contradict the value ("0 days past due" raising risk).

    Parameters
    ----------
    feature : str
        A feature name of :mod:`loanrecovery.early_warning.features`.
    value : float
        The loan's value.
    raises : bool
        The feature raises the loan's risk (else it lowers it).

    Returns
    -------
    bool
    """
    if value != value:
        return True
    worse = _worse_when(feature, value)
    return worse is None or worse == raises


def top_reasons(contributions: pd.DataFrame, values: pd.DataFrame, n_reasons: int = 3) -> list[str]:
    """The ``n_reasons`` features raising each row's risk most, as one "; "-joined text.

    Parameters
    ----------
    contributions : DataFrame
        Per-feature contributions (rows = loans).
    values : DataFrame
        The same rows' feature values.
    n_reasons : int
        Reasons per row.

    Returns
    -------
    list of str
    """
    contrib = contributions.to_numpy()
    names = list(contributions.columns)
    order = np.argsort(-contrib, axis=1, kind="stable")
    vals = values[names].to_numpy(dtype=np.float64)
    out: list[str] = []
    for i, idx in enumerate(order):
        parts: list[str] = []
        for j in idx:
            if contrib[i, j] <= 0 or len(parts) == n_reasons:
                break
            if reason_allowed(names[j], vals[i, j], raises=True):
                parts.append(describe_reason(names[j], vals[i, j]))
        out.append("; ".join(parts) if parts else "no warning sign stands out")
    return out


def alert_slots(alert_budget: float, n_listed: int) -> int:
    """How many alerts the budget allows on a watchlist of ``n_listed`` loans (at most)."""
    return int(math.ceil(alert_budget * n_listed - 1e-9))


def build_watchlist(
    latest: pd.DataFrame,
    probabilities: pd.DataFrame,
    expected_months: np.ndarray,
    segments: np.ndarray,
    reasons: list[str],
    *,
    alert_budget: float,
    min_probability: float = 0.0,
) -> pd.DataFrame:
    """Assemble and rank the watchlist.

    Parameters
    ----------
    latest : DataFrame
        Feature rows of the performing loans at the latest month (``Loan_ID``, ``Month``,
        ``DPD`` and optionally ``Borrower_ID``).
    probabilities : DataFrame
        ``P_3`` and ``P_6`` (and ``P_12`` when fitted) aligned with ``latest``.
    expected_months : ndarray
        Expected months to default (given a default within the survival horizon).
    segments : ndarray
        Segment name per loan.
    reasons : list of str
        Plain-words reasons per loan.
    alert_budget : float
        Largest share of the list marked ``Alert`` (the loans to work this month): a cap,
        not a quota.
    min_probability : float, default=0.0
        Only loans whose 3-month probability reaches it are alerted, however much of the
        budget is left.

    Returns
    -------
    DataFrame
        :data:`WATCHLIST_COLUMNS`, ranked by ``P3`` then ``P6`` (highest first).
    """
    p12 = probabilities.get("P_12", pd.Series(np.nan, index=probabilities.index))
    frame = pd.DataFrame(
        {
            "Loan_ID": latest["Loan_ID"].to_numpy(),
            "Borrower_ID": latest["Borrower_ID"].to_numpy()
            if "Borrower_ID" in latest.columns
            else pd.NA,
            "Month": latest["Month"].to_numpy(),
            "Days_Past_Due": latest["DPD"].to_numpy(),
            "P3": np.round(probabilities["P_3"].to_numpy(), 4),
            "P6": np.round(probabilities["P_6"].to_numpy(), 4),
            "P12": np.round(p12.to_numpy(dtype=float), 4),
            "Expected_Months_To_Default": np.round(expected_months, 1),
            "Segment": segments,
            "Reasons": reasons,
        }
    )
    frame = frame.sort_values(
        ["P3", "P6", "Loan_ID"], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)
    frame.insert(0, "Rank", np.arange(1, len(frame) + 1))
    frame["Alert"] = (frame["Rank"] <= alert_slots(alert_budget, len(frame))) & (
        frame["P3"] >= min_probability
    )
    return frame[list(WATCHLIST_COLUMNS)]
