"""Future targets per loan-month: 90+ days past due within the next ``h`` months.

A loan *defaults* in the first month its ``Days_Past_Due`` reaches 90 (:data:`DEFAULT_DPD`).
For a loan-month ``t`` before that month, the target of horizon ``h`` is 1 when the default
month lies in ``(t, t + h]`` and 0 when the loan was seen performing through ``t + h`` or
left the book (matured, repaid) before ``t + h`` without defaulting. A month whose horizon
reaches past the end of observation has no label at all, not even when a default is already
seen (keeping those early-known defaults would over-represent defaults). Loan-months at or after
the default month are not *performing* and are never used to predict that default.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loanrecovery.delinquency import DEFAULT_DPD

__all__ = ["DEFAULT_DPD", "default_months", "make_targets"]


def default_months(panel: pd.DataFrame, *, as_of: int | None = None) -> pd.Series:
    """First month each loan reached 90+ DPD (NaN if never), seen as of month ``as_of``.

    Parameters
    ----------
    panel : DataFrame
        Validated panel (``Loan_ID``, ``Month``, ``Days_Past_Due``).
    as_of : int, optional
        Ignore months after this one.

    Returns
    -------
    Series
        Indexed by ``Loan_ID``.
    """
    p = panel if as_of is None else panel.loc[panel["Month"] <= as_of]
    hit = p.loc[p["Days_Past_Due"] >= DEFAULT_DPD]
    first = hit.groupby("Loan_ID", sort=False)["Month"].min()
    ids = pd.Index(panel["Loan_ID"].unique(), name="Loan_ID")
    return first.reindex(ids).astype("float64")


def make_targets(
    panel: pd.DataFrame, horizons: tuple[int, ...] = (3, 6), *, as_of: int | None = None
) -> pd.DataFrame:
    """Targets of every panel row, as they could be known at month ``as_of``.

    Parameters
    ----------
    panel : DataFrame
        Validated panel sorted by ``Loan_ID`` then ``Month``.
    horizons : tuple of int
        Horizons in months.
    as_of : int, optional
        The month up to which outcomes may be looked at (default: the panel's last month).
        Use the training cut-off here so that no label looks past it.

    Returns
    -------
    DataFrame
        Same row order as ``panel``: ``Default_Month`` (NaN if none as of ``as_of``),
        ``Performing`` (month before the default month and not after ``as_of``) and one
        float column ``Y_<h>`` per horizon (1, 0 or NaN when unknown).
    """
    end = int(panel["Month"].max()) if as_of is None else int(as_of)
    months = panel["Month"].to_numpy(dtype=np.float64)
    ids = panel["Loan_ID"]
    dmonth = ids.map(default_months(panel, as_of=end)).to_numpy(dtype=np.float64)
    seen = panel.loc[panel["Month"] <= end]
    last = ids.map(seen.groupby("Loan_ID", sort=False)["Month"].max()).to_numpy(dtype=np.float64)
    # A loan whose rows stop before `end` without defaulting has left the book.
    left_book = np.isnan(dmonth) & (last < end)
    performing = (months <= end) & ~(months >= dmonth)
    out = pd.DataFrame({"Default_Month": dmonth, "Performing": performing}, index=panel.index)
    for h in horizons:
        y = np.full(len(panel), np.nan)
        # Only months whose whole horizon lies before `end` are labelled: keeping the
        # early-known positives of later months would over-represent defaults.
        window = performing & (months + h <= end)
        pos = window & (dmonth <= months + h)
        neg = window & ~pos & ((last >= months + h) | left_book)
        y[pos] = 1.0
        y[neg] = 0.0
        out[f"Y_{h}"] = y
    return out
