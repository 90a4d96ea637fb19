"""The payment-panel features of the latest month of MANY accounts at once.

:func:`latest_panel_features` gives, for each of many accounts, the
:data:`~loanrecovery.early_warning.features.PANEL_FEATURES` of its latest month that
:meth:`AccountWarning.features <loanrecovery.early_warning.one_account.AccountWarning.features>`
computes for the account alone, bit for bit (tested on every account of simulated books).
The accounts' panels are laid side by side, one matrix row per account starting at its first
month, with the missing months filled as ``_fill_gaps`` fills them (nothing due or paid, days
past due carried forward). A window sum is then a difference of cumulative sums along the
account's own row, added in the order the account alone adds them. Concatenating the panels
end to end, as ``build_features`` does for a book, would not do: its cumulative sums run over
every loan before this one, so a window sum can differ in the last bit from the account's
own, and its running maximum shifts each loan by an offset computed over the whole book.
"""

from __future__ import annotations

import numpy as np

from loanrecovery.early_warning.features import (
    FULL_SHARE,
    MISSED_SHARE,
    NEVER_MONTHS,
    _ratio,
    _scheduled_balance,
)

__all__ = ["MAX_WIDTH", "latest_panel_features"]

#: The longest panel (months from an account's first to its latest, gaps included) laid in
#: the matrices: the matrices hold accounts x the longest panel, so an account with a longer
#: one (a contract-valid book spans at most twice ``MAX_SPAN_MONTHS``) is scored alone.
MAX_WIDTH = 600


def _window_sum(csum: np.ndarray, last: np.ndarray, window: int) -> np.ndarray:
    """``_rolling_sum`` at each account's latest month, from its row of cumulative sums
    (``csum[:, k]`` is the sum of the account's first ``k`` months)."""
    rows = np.arange(len(last))
    return csum[rows, last + 1] - csum[rows, np.maximum(last - window + 1, 0)]


def _cumulative(values: np.ndarray) -> np.ndarray:
    """Each row's cumulative sums, after a leading zero (``_rolling_sum``'s ``csum``)."""
    return np.concatenate([np.zeros((len(values), 1)), np.cumsum(values, axis=1)], axis=1)


def _months_since(event: np.ndarray, last: np.ndarray) -> np.ndarray:
    """``_months_since`` at each account's latest month (``event`` False after it)."""
    width = event.shape[1]
    latest = width - 1 - np.argmax(event[:, ::-1], axis=1)
    return np.where(event.any(axis=1), (last - latest).astype(np.float64), NEVER_MONTHS)


def latest_panel_features(
    account: np.ndarray,
    month: np.ndarray,
    panel: dict[str, np.ndarray],
    static: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """The panel features of each account's latest month.

    Parameters
    ----------
    account : ndarray of int
        Each panel row's account, numbered from 0 (every account has a row), rows sorted by
        account then month.
    month : ndarray of int64
        Each row's month index; strictly increasing within an account, at most
        :data:`MAX_WIDTH` months from the account's first to its latest.
    panel : dict of str to ndarray
        ``Amount_Due``, ``Amount_Paid``, ``Days_Past_Due`` and ``Outstanding_Balance`` of
        each row, finite float64.
    static : dict of str to ndarray
        ``Origination_Month``, ``Loan_Tenure``, ``Loan_Amount``, ``Interest_Rate`` and
        ``Monthly_EMI`` of each account (float64, NaN when unknown).

    Returns
    -------
    dict of str to ndarray
        Every :data:`~loanrecovery.early_warning.features.PANEL_FEATURES` column, one value
        per account.
    """
    n = int(account[-1]) + 1 if len(account) else 0
    first_row = np.flatnonzero(np.r_[True, account[1:] != account[:-1]])
    last_row = np.r_[first_row[1:] - 1, len(account) - 1]
    position = month - month[first_row][account]
    last = position[last_row]
    width = int(last.max(initial=0)) + 1
    rows = np.arange(n)

    def laid(values: np.ndarray) -> np.ndarray:
        out = np.zeros((n, width))
        out[account, position] = values
        return out

    due, paid = laid(panel["Amount_Due"]), laid(panel["Amount_Paid"])
    real = np.zeros((n, width), dtype=bool)
    real[account, position] = True
    carried = np.zeros((n, width), dtype=np.int64)
    carried[account, position] = position
    dpd = np.take_along_axis(
        laid(panel["Days_Past_Due"]), np.maximum.accumulate(carried, axis=1), axis=1
    )

    share = _ratio(paid, due, 1.0)
    missed = (due > 0) & (share < MISSED_SHARE)
    partial = (due > 0) & (share >= MISSED_SHARE) & (share < FULL_SHARE)
    full = ~missed & ~partial & real
    f: dict[str, np.ndarray] = {}
    paid_sums, due_sums = _cumulative(paid), _cumulative(due)
    for w in (1, 3, 6, 12):
        f[f"Pay_Ratio_{w}"] = _ratio(
            _window_sum(paid_sums, last, w), _window_sum(due_sums, last, w), 1.0
        )
    missed_sums = _cumulative(missed.astype(np.float64))
    partial_sums = _cumulative(partial.astype(np.float64))
    for w in (3, 6, 12):
        f[f"Missed_{w}"] = _window_sum(missed_sums, last, w)
        f[f"Partial_{w}"] = _window_sum(partial_sums, last, w)
    f["Months_Since_Missed"] = _months_since(missed, last)
    f["Months_Since_Partial"] = _months_since(partial, last)
    f["Months_Since_Full"] = _months_since(full, last)

    latest_dpd = dpd[rows, last]
    f["DPD"] = latest_dpd
    for k in (1, 3):
        earlier = np.where(last >= k, dpd[rows, np.maximum(last - k, 0)], 0.0)
        f[f"DPD_Change_{k}"] = latest_dpd - earlier
    column = np.arange(width)[None, :]
    upto = column <= last[:, None]
    for w in (6, 12):
        within = upto & (column > last[:, None] - w)
        f[f"DPD_Max_{w}"] = np.where(within, dpd, -np.inf).max(axis=1)
    f["DPD_Max_Ever"] = np.where(upto, dpd, -np.inf).max(axis=1)

    origination = static["Origination_Month"]
    latest_month = month[last_row].astype(np.float64)
    mob = np.where(np.isfinite(origination), latest_month - origination, last.astype(np.float64))
    f["Months_On_Book"] = mob
    f["Months_Remaining"] = static["Loan_Tenure"] - mob
    amount, emi = static["Loan_Amount"], static["Monthly_EMI"]
    balance = panel["Outstanding_Balance"][last_row]
    sched = _scheduled_balance(amount, static["Interest_Rate"], emi, mob)
    f["Balance_Vs_Schedule"] = _ratio(balance, sched, 1.0)
    f["Balance_To_Amount"] = _ratio(balance, amount, np.nan)
    f["Due_To_EMI"] = _ratio(panel["Amount_Due"][last_row], emi, np.nan)
    return f
