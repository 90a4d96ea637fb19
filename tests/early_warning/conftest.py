"""Small hand-made books for the early-warning tests (no dependency on ../shared)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_book(
    n_loans: int = 600, n_months: int = 30, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A tiny book with gradual deterioration, sudden defaults and cures.

    Returns ``(loans, payments)`` in the simulator's layout. Loop over months only.
    """
    rng = np.random.default_rng(seed)
    ids = np.array([f"L{i:05d}" for i in range(n_loans)])
    amount = rng.uniform(5_000, 50_000, n_loans).round(2)
    tenure = rng.choice([24, 36, 48, 60], n_loans)
    rate = rng.uniform(6, 20, n_loans).round(2)
    r = rate / 1200
    emi = (amount * r / (1 - (1 + r) ** -tenure)).round(2)
    orig = rng.integers(-12, n_months // 2, n_loans)
    frailty = rng.gamma(2.0, 0.5, n_loans)
    loans = pd.DataFrame(
        {
            "Borrower_ID": [f"B{i:05d}" for i in range(n_loans)],
            "Age": rng.integers(21, 65, n_loans),
            "Gender": rng.choice(["Male", "Female"], n_loans),
            "Employment_Type": rng.choice(["Salaried", "Self-Employed"], n_loans),
            "Monthly_Income": rng.uniform(2_000, 10_000, n_loans).round(2),
            "Num_Dependents": rng.integers(0, 4, n_loans),
            "Loan_ID": ids,
            "Loan_Amount": amount,
            "Loan_Tenure": tenure,
            "Interest_Rate": rate,
            "Loan_Type": rng.choice(["Personal", "Auto", "Home"], n_loans),
            "Collateral_Value": (amount * rng.uniform(0, 1.5, n_loans)).round(2),
            "Monthly_EMI": emi,
            "Origination_Month": orig,
        }
    )
    balance = amount.copy()
    arrears = np.zeros(n_loans)
    stress = np.zeros(n_loans)  # 0 healthy, >0 months into a gradual decline
    shocked = np.zeros(n_loans, dtype=bool)
    rows = []
    for month in range(1, n_months + 1):
        active = (orig <= month) & (month - orig < tenure) & (balance > 1)
        start = active & (stress == 0) & (rng.random(n_loans) < 0.012 * frailty)
        stress[start] = 1
        shock = active & ~shocked & (rng.random(n_loans) < 0.002)
        shocked |= shock
        cure = (stress > 0) & (rng.random(n_loans) < 0.08)
        stress[cure] = 0
        share = np.clip(1.0 - 0.28 * stress, 0.0, 1.0)
        share = np.where(shocked, 0.0, share)
        share = np.where(rng.random(n_loans) < 0.03, 0.0, share)
        due = emi + arrears
        paid = np.round(due * np.where(arrears > 0, share * 0.9, share), 2)
        arrears = np.maximum(due - paid, 0.0)
        arrears = np.where(arrears < 0.5, 0.0, arrears)
        dpd = np.where(arrears > 0, 30 * np.ceil(arrears / emi - 1e-9), 0).astype(int)
        balance = np.maximum(balance * (1 + r) - paid, 0)
        for i in np.flatnonzero(active):
            rows.append((ids[i], month, due[i], paid[i], dpd[i], balance[i]))
        stress[stress > 0] += 1
    payments = pd.DataFrame(
        rows,
        columns=[
            "Loan_ID",
            "Month",
            "Amount_Due",
            "Amount_Paid",
            "Days_Past_Due",
            "Outstanding_Balance",
        ],
    ).sort_values(["Loan_ID", "Month"], kind="stable")
    payments = payments.reset_index(drop=True).round(2)
    return loans, payments


@pytest.fixture(scope="session")
def small_book() -> tuple[pd.DataFrame, pd.DataFrame]:
    """600 loans x 30 months."""
    return make_book()


@pytest.fixture(scope="session")
def book_factory():  # type: ignore[no-untyped-def]
    """The :func:`make_book` generator, for tests that need their own book."""
    return make_book
