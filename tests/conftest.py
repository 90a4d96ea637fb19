"""Shared fixtures: small canonical loan tables made here (tests never read ../shared)."""

from __future__ import annotations

import os

# The test process is an entry point like loanrecovery/__main__.py: LightGBM's idle OpenMP
# threads wait passively (set before any test module loads LightGBM or scikit-learn).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pandas as pd
import pytest
from hypothesis import settings

# Derandomized: the same examples on every run, so a CI run is reproducible.
settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True)
settings.load_profile("ci")


def make_loans(n: int = 400, seed: int = 0, *, with_target: bool = True) -> pd.DataFrame:
    """A canonical loan table with a target that depends on the features."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(11, 0.5, n).round(0)
    amount = rng.uniform(5e4, 2e6, n).round(0)
    tenure = rng.choice([12, 24, 36, 48, 60, 72], n)
    rate = rng.uniform(5, 18, n).round(2)
    r = rate / 1200
    emi = (amount * r * (1 + r) ** tenure / ((1 + r) ** tenure - 1)).round(2)
    dpd = rng.choice([0, 0, 0, 0, 30, 60, 95, 120], n)
    missed = (dpd // 30 + rng.poisson(0.3, n)).astype(int)
    outstanding = (amount * rng.uniform(0.05, 1.0, n)).round(2)
    loans = pd.DataFrame(
        {
            "Borrower_ID": [f"BRW_{i}" for i in range(n)],
            "Age": rng.integers(21, 65, n),
            "Gender": rng.choice(["Male", "Female"], n),
            "Employment_Type": rng.choice(["Salaried", "Self-Employed", "Business Owner"], n),
            "Monthly_Income": income,
            "Num_Dependents": rng.integers(0, 4, n),
            "Loan_ID": [f"LN_{i}" for i in range(n)],
            "Loan_Amount": amount,
            "Loan_Tenure": tenure,
            "Interest_Rate": rate,
            "Loan_Type": rng.choice(["Personal", "Home", "Auto", "Business"], n),
            "Collateral_Value": (amount * rng.uniform(0, 1.5, n)).round(2),
            "Outstanding_Loan_Amount": outstanding,
            "Monthly_EMI": emi,
            "Payment_History": np.where(
                dpd > 60, "Missed", np.where(dpd > 0, "Delayed", "On-Time")
            ),
            "Num_Missed_Payments": missed,
            "Days_Past_Due": dpd,
            "Recovery_Status": rng.choice(
                ["Fully Recovered", "Partially Recovered", "Written Off"], n
            ),
            "Collection_Attempts": rng.integers(0, 6, n),
            "Collection_Method": rng.choice(["Calls", "Legal Notice", "Settlement Offer"], n),
            "Legal_Action_Taken": rng.choice(["Yes", "No"], n),
        }
    )
    if with_target:
        logit = -2.5 + 0.02 * dpd + 1.5 * (emi / income) + 0.5 * (outstanding / amount)
        loans["Default_Next_6M"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return loans


@pytest.fixture
def loans() -> pd.DataFrame:
    return make_loans()


@pytest.fixture
def loan_factory():
    """The :func:`make_loans` factory, for tests that need several tables."""
    return make_loans
