"""Point-in-time sequence inputs of the sequence model (numpy only, no torch).

Each loan becomes one sequence of calendar months, from its first panel month to its last
(gaps filled as in :func:`~loanrecovery.early_warning.features._fill_gaps`: nothing due,
nothing paid, days past due and balance carried forward, flagged as unobserved). The
channels of a month are computed from that month's panel row and the loan's static terms
only, so that step ``t`` of a sequence never holds information from a later month; the
model that reads it (a one-directional GRU) is causal too, so the prediction at month
``t`` depends only on months ``<= t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from loanrecovery.early_warning.features import (
    EMPLOYMENT_TYPES,
    LOAN_TYPES,
    _fill_gaps,
    _group_starts,
    static_features,
)

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
    """

    seq: np.ndarray
    months: np.ndarray
    static: np.ndarray
    type_code: np.ndarray
    employment_code: np.ndarray
    row_loan: np.ndarray
    row_step: np.ndarray
    loan_ids: np.ndarray

    @property
    def n_loans(self) -> int:
        """Number of loans (sequences)."""
        return int(self.seq.shape[0])


def _ratio(num: np.ndarray, den: np.ndarray, default: float, hi: float = 5.0) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), default)
    return np.clip(np.nan_to_num(out, nan=default), 0.0, hi)


def _channels(
    p: pd.DataFrame, real: np.ndarray, static: pd.DataFrame, pos: np.ndarray
) -> np.ndarray:
    due = p["Amount_Due"].to_numpy(dtype=np.float64)
    paid = p["Amount_Paid"].to_numpy(dtype=np.float64)
    dpd = p["Days_Past_Due"].to_numpy(dtype=np.float64)
    bal = p["Outstanding_Balance"].to_numpy(dtype=np.float64)
    month = p["Month"].to_numpy(dtype=np.float64)
    emi = static["Monthly_EMI"].to_numpy(dtype=np.float64)
    amount = static["Loan_Amount"].to_numpy(dtype=np.float64)
    orig = static["Origination_Month"].to_numpy(dtype=np.float64)
    mob = np.where(np.isfinite(orig), month - orig, pos.astype(np.float64))
    angle = 2.0 * np.pi * np.mod(month, 12.0) / 12.0
    cols = [
        np.log1p(np.maximum(due, 0.0)),
        np.log1p(np.maximum(paid, 0.0)),
        _ratio(paid, due, 1.0),
        _ratio(due, emi, 1.0, hi=20.0),
        np.clip(dpd / 30.0, 0.0, 12.0),
        _ratio(bal, amount, 1.0, hi=3.0),
        real.astype(np.float64),
        np.sin(angle),
        np.cos(angle),
        np.clip(mob / 12.0, -2.0, 40.0),
    ]
    return np.stack(cols, axis=1).astype(np.float32)


def build_sequences(panel: pd.DataFrame, loans: pd.DataFrame) -> SequenceData:
    """Padded per-loan sequences of a validated panel.

    Parameters
    ----------
    panel : DataFrame
        Accepted panel rows (sorted by ``Loan_ID`` then ``Month``), as from
        :func:`~loanrecovery.contract.payments.validate_panel`.
    loans : DataFrame
        The loan table; only its static columns are read.

    Returns
    -------
    SequenceData
    """
    p, real = _fill_gaps(panel.reset_index(drop=True))
    ids = p["Loan_ID"].to_numpy()
    start = _group_starts(ids)
    pos = np.arange(len(p)) - start
    loan_code, uniq = pd.factorize(ids)
    n_loans = len(uniq)
    n_steps = int(pos.max()) + 1 if len(p) else 1
    stat = static_features(loans)
    static_rows = stat.reindex(p["Loan_ID"])
    values = _channels(p, real, static_rows, pos)
    seq = np.zeros((n_loans, n_steps, len(CHANNELS)), dtype=np.float32)
    seq[loan_code, pos] = values
    months = np.full((n_loans, n_steps), -1, dtype=np.int64)
    months[loan_code, pos] = p["Month"].to_numpy(dtype=np.int64)
    per_loan = stat.reindex(pd.Index(uniq))
    static = per_loan[list(STATIC_NUMERIC)].to_numpy(dtype=np.float32)
    type_code = per_loan["Loan_Type_Code"].fillna(-1).to_numpy(dtype=np.int64) + 1
    emp_code = per_loan["Employment_Code"].fillna(-1).to_numpy(dtype=np.int64) + 1
    return SequenceData(
        seq=seq,
        months=months,
        static=static,
        type_code=np.clip(type_code, 0, N_LOAN_TYPES - 1),
        employment_code=np.clip(emp_code, 0, N_EMPLOYMENT_TYPES - 1),
        row_loan=loan_code[real].astype(np.int64),
        row_step=pos[real].astype(np.int64),
        loan_ids=np.asarray(uniq),
    )
