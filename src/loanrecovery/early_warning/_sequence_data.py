"""Point-in-time sequence inputs of the sequence model (numpy only, no torch).

Each loan becomes one sequence of calendar months, from its first panel month to its last
(gaps filled as the GBM's features fill them: nothing due, nothing paid, days past due
and balance carried forward, flagged as unobserved). The channels of a month are computed
from that month's panel row and the loan's static terms only, so that step ``t`` of a
sequence never holds information from a later month; the model that reads it (a
one-directional GRU) is causal too, so the prediction at month ``t`` depends only on
months ``<= t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from loanrecovery.early_warning.features import EMPLOYMENT_TYPES, LOAN_TYPES, static_features

__all__ = ["CHANNELS", "STATIC_NUMERIC", "SequenceData", "build_sequences"]

#: Per-month input channels, in order.
CHANNELS: tuple[str, ...] = (
    "Log_Amount_Due",
    "Log_Amount_Paid",
    "Paid_To_Due",
    "Due_To_EMI",
    "DPD_30",
    "Balance_To_Amount",
    "Observed",
    "Month_Sin",
    "Month_Cos",
    "Years_On_Book",
)

#: Static numeric inputs (the categorical codes go through embeddings).
STATIC_NUMERIC: tuple[str, ...] = (
    "Age",
    "Monthly_Income",
    "EMI_To_Income",
    "Num_Dependents",
    "Loan_Amount",
    "Loan_Tenure",
    "Interest_Rate",
    "Secured",
    "Monthly_EMI",
)

#: Embedding vocabulary sizes: codes -1 (unknown) .. n-1 are shifted by one.
N_LOAN_TYPES = len(LOAN_TYPES) + 1
N_EMPLOYMENT_TYPES = len(EMPLOYMENT_TYPES) + 1


@dataclass(frozen=True)
class SequenceData:
    """A panel as padded per-loan sequences.

    Attributes
    ----------
    seq : ndarray of float32, shape (n_loans, n_steps, n_channels)
        Raw (unscaled) channels; steps after a loan's last month are zero.
    months : ndarray of int64, shape (n_loans, n_steps)
        Calendar month of each step (-1 for padding).
    static : ndarray of float32, shape (n_loans, n_static)
        :data:`STATIC_NUMERIC` (NaN when missing).
    type_code, employment_code : ndarray of int64, shape (n_loans,)
        Embedding indices (0 = unknown).
    row_loan, row_step : ndarray of int64, shape (n_rows,)
        Where each row of the input panel sits in ``seq`` (same order as the panel).
    loan_ids : ndarray, shape (n_loans,)
        ``Loan_ID`` of each sequence.
    lengths : ndarray of int64, shape (n_loans,)
        Number of steps of each loan (first to last panel month, gaps included).
    """

    seq: np.ndarray
    months: np.ndarray
    static: np.ndarray
    type_code: np.ndarray
    employment_code: np.ndarray
    row_loan: np.ndarray
    row_step: np.ndarray
    loan_ids: np.ndarray
    lengths: np.ndarray

    @property
    def n_loans(self) -> int:
        """Number of loans (sequences)."""
        return int(self.seq.shape[0])


def _ratio(num: np.ndarray, den: np.ndarray, default: float, hi: float = 5.0) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), default)
    return np.clip(np.nan_to_num(out, nan=default), 0.0, hi)


def _block_layout(
    ids: np.ndarray, months: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where each row goes on the per-loan grid of months.

    Returns the loan code and step of each row, and the ``Loan_ID``, first month and
    number of steps (first to last month) of each loan.

    Raises
    ------
    ValueError
        When the rows are not sorted by ``Loan_ID`` then ``Month`` with one row per
        loan-month (a validated panel always is), naming the first offending row.
    """
    codes, uniq = pd.factorize(ids, use_na_sentinel=False)
    n = len(codes)
    new_block = np.ones(n, dtype=bool)
    new_block[1:] = codes[1:] != codes[:-1]
    first_rows = np.flatnonzero(new_block)
    if len(first_rows) != len(uniq):
        # Codes follow first appearance: the first block whose code is not its rank is a
        # loan seen before.
        r = int(first_rows[np.flatnonzero(codes[first_rows] != np.arange(len(first_rows)))[0]])
        raise ValueError(
            f"panel row {r}: loan {ids[r]!r} appears in two separate blocks; rows must be "
            "sorted by Loan_ID then Month"
        )
    bad = np.flatnonzero(~new_block[1:] & (np.diff(months) <= 0))
    if len(bad):
        r = int(bad[0]) + 1
        raise ValueError(
            f"panel row {r}: loan {ids[r]!r} month {months[r]} is repeated or out of order; "
            "rows must be sorted by Loan_ID then Month, one row per loan-month"
        )
    first_month = months[first_rows]
    steps = months - first_month[codes]
    last_rows = np.append(first_rows[1:] - 1, n - 1) if n else first_rows
    lengths = steps[last_rows] + 1
    return codes.astype(np.int64), steps, np.asarray(uniq), first_month, lengths


def _carried(values: np.ndarray, real: np.ndarray) -> np.ndarray:
    """``values`` on the grid with each unobserved step given the last observed value of
    its loan (step 0 of a loan is always observed)."""
    source = np.where(real, np.arange(real.shape[1]), 0)
    np.maximum.accumulate(source, axis=1, out=source)
    return np.take_along_axis(values, source, axis=1)


def _channels(
    grid: dict[str, np.ndarray], real: np.ndarray, per_loan: pd.DataFrame, month: np.ndarray
) -> np.ndarray:
    """The :data:`CHANNELS` of every cell of the (loans, steps) grid, float32."""
    due, paid = grid["Amount_Due"], grid["Amount_Paid"]
    dpd = _carried(grid["Days_Past_Due"], real)
    bal = _carried(grid["Outstanding_Balance"], real)
    emi = per_loan["Monthly_EMI"].to_numpy(dtype=np.float64)[:, None]
    amount = per_loan["Loan_Amount"].to_numpy(dtype=np.float64)[:, None]
    orig = per_loan["Origination_Month"].to_numpy(dtype=np.float64)[:, None]
    step = np.arange(month.shape[1], dtype=np.float64)[None, :]
    mob = np.where(np.isfinite(orig), month - orig, step)
    angle = 2.0 * np.pi * np.mod(month, 12.0) / 12.0
    cols = (
        np.log1p(np.maximum(due, 0.0)),
        np.log1p(np.maximum(paid, 0.0)),
        _ratio(paid, due, 1.0),
        _ratio(due, emi, 1.0, hi=20.0),
        np.clip(dpd / 30.0, 0.0, 12.0),
        _ratio(bal, amount, 1.0, hi=3.0),
        real,
        np.sin(angle),
        np.cos(angle),
        np.clip(mob / 12.0, -2.0, 40.0),
    )
    out = np.empty((*month.shape, len(CHANNELS)), dtype=np.float32)
    for i, col in enumerate(cols):
        out[..., i] = col
    return out


def build_sequences(panel: pd.DataFrame, loans: pd.DataFrame) -> SequenceData:
    """Padded per-loan sequences of a validated panel.

    Vectorised over the panel (numpy on the loans x months grid, no per-loan Python).

    Parameters
    ----------
    panel : DataFrame
        Accepted panel rows (sorted by ``Loan_ID`` then ``Month``, one row per loan-month),
        as from :func:`~loanrecovery.contract.payments.validate_panel`.
    loans : DataFrame
        The loan table; only its static columns are read.

    Returns
    -------
    SequenceData

    Raises
    ------
    ValueError
        When ``panel`` is not sorted by ``Loan_ID`` then ``Month`` with one row per
        loan-month.
    """
    months_in = panel["Month"].to_numpy(dtype=np.int64)
    code, pos, loan_ids, first_month, lengths = _block_layout(
        panel["Loan_ID"].to_numpy(), months_in
    )
    n_loans = len(loan_ids)
    n_steps = int(lengths.max()) if n_loans else 1
    step = np.arange(n_steps)
    valid = step[None, :] < lengths[:, None]
    real = np.zeros((n_loans, n_steps), dtype=bool)
    real[code, pos] = True
    grid: dict[str, np.ndarray] = {}
    for col in ("Amount_Due", "Amount_Paid", "Days_Past_Due", "Outstanding_Balance"):
        values = np.zeros((n_loans, n_steps), dtype=np.float64)
        values[code, pos] = panel[col].to_numpy(dtype=np.float64)
        grid[col] = values
    month = first_month[:, None] + step[None, :]
    per_loan = static_features(loans).reindex(pd.Index(loan_ids))
    seq = _channels(grid, real, per_loan, month.astype(np.float64))
    seq[~valid] = 0.0
    static = per_loan[list(STATIC_NUMERIC)].to_numpy(dtype=np.float32)
    type_code = per_loan["Loan_Type_Code"].fillna(-1).to_numpy(dtype=np.int64) + 1
    emp_code = per_loan["Employment_Code"].fillna(-1).to_numpy(dtype=np.int64) + 1
    return SequenceData(
        seq=seq,
        months=np.where(valid, month, -1),
        static=np.ascontiguousarray(static),
        type_code=np.clip(type_code, 0, N_LOAN_TYPES - 1),
        employment_code=np.clip(emp_code, 0, N_EMPLOYMENT_TYPES - 1),
        row_loan=code,
        row_step=pos,
        loan_ids=loan_ids,
        lengths=np.maximum(lengths, 1),
    )
