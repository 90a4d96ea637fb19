"""Roll rates, default rate and calibration of the true default probability (3000 loans)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loanrecovery.simulate import SimulatedBook


def _roll_matrix(payments: pd.DataFrame) -> pd.DataFrame:
    pay = payments.sort_values(["Loan_ID", "Month"])
    bucket = (pay["Days_Past_Due"] // 30).clip(upper=3)
    nxt = bucket.groupby(pay["Loan_ID"]).shift(-1)
    gap = pay.groupby("Loan_ID")["Month"].shift(-1) - pay["Month"]
    ok = nxt.notna() & (gap == 1)
    return pd.crosstab(bucket[ok], nxt[ok].astype(int), normalize="index")


def test_roll_rates_are_realistic(medium_book: SimulatedBook) -> None:
    roll = _roll_matrix(medium_book.payments)
    assert 0.005 <= roll.loc[0, 1] <= 0.05  # current -> 30 a month
    assert 0.15 <= roll.loc[1, 2] <= 0.50  # 30 -> 60
    assert roll.loc[1, 0] >= 0.30  # 30 -> current (cure)
    assert 0.30 <= roll.loc[2, 3] <= 0.70  # 60 -> 90
    assert roll.loc[2, 0] + roll.loc[2, 1] >= 0.10  # partial and full cures from 60


def test_default_rate_is_sensible(medium_book: SimulatedBook) -> None:
    active = medium_book.loans[medium_book.loans["Loan_Status"] == "Active"]
    rate = active["Default_Next_6M"].mean()
    assert 0.02 <= rate <= 0.15
    closed = medium_book.loans[medium_book.loans["Loan_Status"] != "Active"]
    assert (closed["Default_Next_6M"] == 0).all()


def test_true_probability_is_calibrated(medium_book: SimulatedBook) -> None:
    active = medium_book.loans[medium_book.loans["Loan_Status"] == "Active"]
    prob = active["Loan_ID"].map(medium_book.truth["default_probability"])
    assert prob.notna().all()
    assert ((prob >= 0) & (prob <= 1)).all()
    y = active["Default_Next_6M"]
    se = np.sqrt((prob * (1 - prob)).sum()) / len(prob)
    assert abs(prob.mean() - y.mean()) < 4 * se + 0.005
    # it is a probability, not the realised label
    assert prob.nunique() > 20
    high, low = prob >= prob.quantile(0.9), prob <= prob.quantile(0.5)
    assert y[high].mean() > 5 * y[low].mean()
