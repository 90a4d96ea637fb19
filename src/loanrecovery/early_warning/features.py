"""Point-in-time features per loan-month.

Every feature of loan ``i`` at month ``t`` is computed from the panel rows of loan ``i``
at months ``<= t`` and from the *static* columns of the loan table (origination terms and
borrower attributes that do not move with the loan's behaviour). The snapshot behaviour
columns of ``loans.csv`` (``Days_Past_Due``, ``Num_Missed_Payments``, ``Payment_History``,
``Outstanding_Loan_Amount``), the treatment and outcome columns and ``Gender`` are never
used: they describe the end of the window or are not allowed as features.

All window features are vectorised over the whole panel (cumulative sums and shifted
arrays inside contiguous loan blocks), without a Python loop over loans.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loanrecovery.contract.payments import month_index

__all__ = [
    "NEVER_MONTHS",
    "PANEL_FEATURES",
    "STATIC_FEATURES",
    "FEATURE_LABELS",
    "LOAN_TYPES",
    "EMPLOYMENT_TYPES",
    "build_features",
    "static_features",
    "MISSED_SHARE",
    "FULL_SHARE",
]

#: A month counts as *missed* when less than this share of the amount due was paid.
MISSED_SHARE = 0.05
#: A month counts as *fully paid* when at least this share of the amount due was paid.
FULL_SHARE = 0.95
#: "Never happened" is encoded as this many months (larger than any window).
NEVER_MONTHS = 99.0

#: Loan types in the contract's order; anything else is coded -1.
LOAN_TYPES: tuple[str, ...] = ("Personal", "Home", "Auto", "Business", "Education")

#: Employment types in the contract's order; anything else is coded -1.
EMPLOYMENT_TYPES: tuple[str, ...] = ("Salaried", "Self-Employed", "Business Owner", "Unemployed")

#: Static columns used as features (origination terms and borrower attributes as recorded at
#: application: a later job loss is not in the loan table, so these do not leak the future).
#: ``Collateral_Value`` enters only as ``Secured`` (collateral > 0): the loan table gives the
#: collateral's value at the loan's *last* month, after a drift whose length depends on when
#: the loan left the book, so its level would carry a trace of the future.
STATIC_FEATURES: tuple[str, ...] = (
    "Age",
    "Employment_Code",
    "Monthly_Income",
    "EMI_To_Income",
    "Num_Dependents",
    "Loan_Amount",
    "Loan_Tenure",
    "Interest_Rate",
    "Loan_Type_Code",
    "Secured",
    "Monthly_EMI",
)

#: Features computed from the payment history up to the month.
PANEL_FEATURES: tuple[str, ...] = (
    "Months_On_Book",
    "Months_Remaining",
    "Pay_Ratio_1",
    "Pay_Ratio_3",
    "Pay_Ratio_6",
    "Pay_Ratio_12",
    "Missed_3",
    "Missed_6",
    "Missed_12",
    "Partial_3",
    "Partial_6",
    "Partial_12",
    "Months_Since_Missed",
    "Months_Since_Partial",
    "Months_Since_Full",
    "DPD",
    "DPD_Change_1",
    "DPD_Change_3",
    "DPD_Max_6",
    "DPD_Max_12",
    "DPD_Max_Ever",
    "Balance_Vs_Schedule",
    "Balance_To_Amount",
    "Due_To_EMI",
)

#: Plain-words description of each feature, used by the watchlist's reasons.
FEATURE_LABELS: dict[str, str] = {
    "Age": "borrower age",
    "Employment_Code": "employment type",
    "Monthly_Income": "monthly income",
    "EMI_To_Income": "instalment against income",
    "Num_Dependents": "number of dependents",
    "Loan_Amount": "loan amount",
    "Loan_Tenure": "loan tenure",
    "Interest_Rate": "interest rate",
    "Loan_Type_Code": "loan type",
    "Secured": "secured loan",
    "Monthly_EMI": "monthly instalment",
    "Months_On_Book": "months since origination",
    "Months_Remaining": "months left to maturity",
    "Pay_Ratio_1": "share of last month's due paid",
    "Pay_Ratio_3": "share of the last 3 months' dues paid",
    "Pay_Ratio_6": "share of the last 6 months' dues paid",
    "Pay_Ratio_12": "share of the last 12 months' dues paid",
    "Missed_3": "payments missed in the last 3 months",
    "Missed_6": "payments missed in the last 6 months",
    "Missed_12": "payments missed in the last 12 months",
    "Partial_3": "partial payments in the last 3 months",
    "Partial_6": "partial payments in the last 6 months",
    "Partial_12": "partial payments in the last 12 months",
    "Months_Since_Missed": "months since the last missed payment",
    "Months_Since_Partial": "months since the last partial payment",
    "Months_Since_Full": "months since the last full payment",
    "DPD": "days past due",
    "DPD_Change_1": "change in days past due over 1 month",
    "DPD_Change_3": "change in days past due over 3 months",
    "DPD_Max_6": "worst days past due in 6 months",
    "DPD_Max_12": "worst days past due in 12 months",
    "DPD_Max_Ever": "worst days past due ever",
    "Balance_Vs_Schedule": "balance against the repayment schedule",
    "Balance_To_Amount": "balance against the amount lent",
    "Due_To_EMI": "amount due against the instalment",
}


def _group_starts(loan_ids: np.ndarray) -> np.ndarray:
    """Index of the first row of each row's loan block (rows sorted by loan)."""
    n = len(loan_ids)
    new_block = np.ones(n, dtype=bool)
    if n > 1:
        new_block[1:] = loan_ids[1:] != loan_ids[:-1]
    starts = np.where(new_block, np.arange(n), 0)
    return np.maximum.accumulate(starts)


def _rolling_sum(values: np.ndarray, start: np.ndarray, window: int) -> np.ndarray:
    """Sum of the last ``window`` values within each loan block (fewer at the start)."""
    pos = np.arange(len(values))
    csum = np.concatenate([[0.0], np.cumsum(values, dtype=np.float64)])
    lo = np.maximum(pos - window + 1, start)
    return csum[pos + 1] - csum[lo]


def _lag(values: np.ndarray, start: np.ndarray, k: int, fill: float) -> np.ndarray:
    """Value ``k`` rows earlier in the same loan block, else ``fill``."""
    pos = np.arange(len(values))
    src = pos - k
    ok = src >= start
    out = np.full(len(values), fill, dtype=np.float64)
    out[ok] = values[src[ok]]
    return out


def _rolling_max(values: np.ndarray, start: np.ndarray, window: int) -> np.ndarray:
    out = values.astype(np.float64).copy()
    for k in range(1, window):
        out = np.maximum(out, _lag(values, start, k, -np.inf))
    return out


def _months_since(event: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Months since the last row where ``event`` was true in the block (0 = this month)."""
    pos = np.arange(len(event))
    last = np.maximum.accumulate(np.where(event, pos, -1))
    ok = last >= start
    return np.where(ok, pos - last, NEVER_MONTHS).astype(np.float64)


def _ratio(num: np.ndarray, den: np.ndarray, default: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), default)
    return np.clip(out, 0.0, 5.0)


def static_features(loans: pd.DataFrame) -> pd.DataFrame:
    """Static features per loan, indexed by ``Loan_ID``.

    Parameters
    ----------
    loans : DataFrame
        The loan table (canonical column names).

    Returns
    -------
    DataFrame
        :data:`STATIC_FEATURES` plus ``Origination_Month`` (NaN when absent), indexed by
        ``Loan_ID``.
    """
    ids = loans["Loan_ID"].astype("string").str.strip()
    out = pd.DataFrame(index=pd.Index(ids, name="Loan_ID"))
    for col in (
        "Age",
        "Monthly_Income",
        "Num_Dependents",
        "Loan_Amount",
        "Loan_Tenure",
        "Interest_Rate",
    ):
        out[col] = _numeric(loans, col)
    out["Employment_Code"] = _codes(loans, "Employment_Type", EMPLOYMENT_TYPES)
    collateral = _numeric(loans, "Collateral_Value")
    out["Secured"] = np.where(np.isnan(collateral), np.nan, (collateral > 0).astype(np.float64))
    out["Monthly_EMI"] = _numeric(loans, "Monthly_EMI")
    out["Loan_Type_Code"] = _codes(loans, "Loan_Type", LOAN_TYPES)
    out["EMI_To_Income"] = _ratio(
        out["Monthly_EMI"].to_numpy(), out["Monthly_Income"].to_numpy(), np.nan
    )
    if "Origination_Month" in loans.columns:
        out["Origination_Month"] = month_index(loans["Origination_Month"]).to_numpy()
    else:
        out["Origination_Month"] = np.nan
    out = out[~out.index.duplicated(keep="first")]
    return out


def _codes(frame: pd.DataFrame, col: str, levels: tuple[str, ...]) -> np.ndarray:
    if col not in frame.columns:
        return np.full(len(frame), -1.0)
    lookup = {name: float(i) for i, name in enumerate(levels)}
    mapped = frame[col].astype("string").str.strip().map(lookup)
    return mapped.fillna(-1.0).to_numpy(dtype=np.float64)


def _numeric(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)


def _fill_gaps(panel: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Every loan's rows on consecutive months, with a row for each missing month.

    A missing month (never sent, or its row rejected) is *unknown*: nothing due and nothing
    paid (so it counts as neither missed, partial nor full) and its days past due and
    balance carried forward from the month before. Window features then count months, not
    rows. Returns the filled panel and the mask of its rows that were in ``panel``.
    """
    months = panel["Month"].to_numpy(dtype=np.int64)
    ids = panel["Loan_ID"].to_numpy()
    start = _group_starts(ids)
    step = np.diff(months, prepend=months[:1] - 1)
    step[start == np.arange(len(months))] = 1
    if len(months) == 0 or (step <= 1).all():
        return panel, np.ones(len(panel), dtype=bool)
    # Each real row is preceded by step - 1 missing months of its loan.
    width = np.maximum(step, 1)
    position = np.cumsum(width) - 1
    filled = pd.DataFrame(
        {
            "Loan_ID": np.repeat(ids, width),
            "Month": np.repeat(months, width) - _offsets_within(width),
        }
    )
    real = np.zeros(len(filled), dtype=bool)
    real[position] = True
    for col in ("Amount_Due", "Amount_Paid", "Days_Past_Due", "Outstanding_Balance"):
        values = np.full(len(filled), np.nan)
        values[position] = panel[col].to_numpy(dtype=np.float64)
        filled[col] = values
    for col in ("Amount_Due", "Amount_Paid"):
        filled.loc[~real, col] = 0.0
    for col in ("Days_Past_Due", "Outstanding_Balance"):
        filled[col] = filled[col].ffill()  # a gap never opens a loan's rows: same loan
    return filled, real


def _offsets_within(width: np.ndarray) -> np.ndarray:
    """For runs of lengths ``width``: width-1, ..., 1, 0 within each run."""
    total = int(width.sum())
    ends = np.cumsum(width)
    run_end = np.repeat(ends, width)
    return run_end - 1 - np.arange(total)


def _payment_features(
    due: np.ndarray, paid: np.ndarray, observed: np.ndarray, start: np.ndarray
) -> dict[str, np.ndarray]:
    share = _ratio(paid, due, 1.0)
    missed = (due > 0) & (share < MISSED_SHARE)
    partial = (due > 0) & (share >= MISSED_SHARE) & (share < FULL_SHARE)
    full = ~missed & ~partial & observed
    f: dict[str, np.ndarray] = {}
    for w in (1, 3, 6, 12):
        f[f"Pay_Ratio_{w}"] = _ratio(_rolling_sum(paid, start, w), _rolling_sum(due, start, w), 1.0)
    for w in (3, 6, 12):
        f[f"Missed_{w}"] = _rolling_sum(missed.astype(np.float64), start, w)
        f[f"Partial_{w}"] = _rolling_sum(partial.astype(np.float64), start, w)
    f["Months_Since_Missed"] = _months_since(missed, start)
    f["Months_Since_Partial"] = _months_since(partial, start)
    f["Months_Since_Full"] = _months_since(full, start)
    return f


def _dpd_features(dpd: np.ndarray, start: np.ndarray) -> dict[str, np.ndarray]:
    f: dict[str, np.ndarray] = {"DPD": dpd}
    f["DPD_Change_1"] = dpd - _lag(dpd, start, 1, 0.0)
    f["DPD_Change_3"] = dpd - _lag(dpd, start, 3, 0.0)
    f["DPD_Max_6"] = _rolling_max(dpd, start, 6)
    f["DPD_Max_12"] = _rolling_max(dpd, start, 12)
    run_max = dpd.copy()
    # Running maximum within blocks: offset each block so that maxima cannot cross blocks.
    offset = start.astype(np.float64) * (dpd.max(initial=0.0) + 1.0)
    run_max = np.maximum.accumulate(dpd + offset) - offset
    f["DPD_Max_Ever"] = run_max
    return f


def _scheduled_balance(
    amount: np.ndarray, rate_pct: np.ndarray, emi: np.ndarray, k: np.ndarray
) -> np.ndarray:
    """Balance an amortising loan should have after ``k`` instalments."""
    r = rate_pct / 1200.0
    k = np.maximum(k, 0.0)
    growth = np.power(1.0 + r, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        annuity = np.where(r > 0, (growth - 1.0) / np.where(r > 0, r, 1.0), k)
    return np.maximum(amount * growth - emi * annuity, 0.0)


def build_features(panel: pd.DataFrame, loans: pd.DataFrame) -> pd.DataFrame:
    """Point-in-time features for every loan-month of a validated panel.

    Parameters
    ----------
    panel : DataFrame
        Accepted panel rows from :func:`~loanrecovery.contract.payments.validate_panel`
        (sorted by ``Loan_ID`` then ``Month``). Months missing between a loan's rows are
        treated as unknown (:func:`_fill_gaps`): window features count calendar months.
    loans : DataFrame
        The loan table; only its static columns are read.

    Returns
    -------
    DataFrame
        One row per panel row, in the same order: ``Loan_ID``, ``Month`` and the
        :data:`STATIC_FEATURES` and :data:`PANEL_FEATURES` columns.
    """
    p, real = _fill_gaps(panel.reset_index(drop=True))
    ids = p["Loan_ID"].to_numpy()
    start = _group_starts(ids)
    static = static_features(loans).reindex(p["Loan_ID"])
    month = p["Month"].to_numpy(dtype=np.float64)
    pos_in_loan = np.arange(len(p)) - start
    orig = static["Origination_Month"].to_numpy()
    mob = np.where(np.isfinite(orig), month - orig, pos_in_loan.astype(np.float64))
    tenure = static["Loan_Tenure"].to_numpy()
    out: dict[str, np.ndarray] = {
        "Months_On_Book": mob,
        "Months_Remaining": tenure - mob,
    }
    due = p["Amount_Due"].to_numpy(dtype=np.float64)
    paid = p["Amount_Paid"].to_numpy(dtype=np.float64)
    out.update(_payment_features(due, paid, real, start))
    out.update(_dpd_features(p["Days_Past_Due"].to_numpy(dtype=np.float64), start))
    amount = static["Loan_Amount"].to_numpy()
    bal = p["Outstanding_Balance"].to_numpy(dtype=np.float64)
    sched = _scheduled_balance(
        amount, static["Interest_Rate"].to_numpy(), static["Monthly_EMI"].to_numpy(), mob
    )
    out["Balance_Vs_Schedule"] = _ratio(bal, sched, 1.0)
    out["Balance_To_Amount"] = _ratio(bal, amount, np.nan)
    out["Due_To_EMI"] = _ratio(
        p["Amount_Due"].to_numpy(dtype=np.float64), static["Monthly_EMI"].to_numpy(), np.nan
    )
    frame = pd.DataFrame({"Loan_ID": p["Loan_ID"].to_numpy(), "Month": p["Month"].to_numpy()})
    for col in STATIC_FEATURES:
        frame[col] = static[col].to_numpy()
    for col in PANEL_FEATURES:
        frame[col] = out[col]
    if not real.all():
        frame = frame.loc[real].reset_index(drop=True)
    return frame
