"""Small simulated loan tables for the modelling tests (never ../shared)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_table(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    """A loan table of mixed column kinds whose default depends on some of them."""
    rng = np.random.default_rng(seed)
    dpd = rng.choice([0, 0, 0, 15, 30, 60, 95], n).astype(float)
    utilisation = rng.beta(2, 3, n)
    income = rng.lognormal(8, 0.5, n).round(0)
    grade = rng.choice(["A", "B", "C", "D"], n, p=[0.3, 0.3, 0.25, 0.15])
    logit = (
        -2.5
        + 0.025 * dpd
        + 2.0 * utilisation
        - 0.4 * np.log(income / 3000)
        + np.select([grade == "C", grade == "D"], [0.6, 1.2], 0.0)
    )
    bad = rng.random(n) < 1 / (1 + np.exp(-logit))
    income_text = np.array([f"${v:,.2f} " for v in income], dtype=object)
    frame = pd.DataFrame(
        {
            "Loan_ID": [f"L{i:06d}" for i in range(n)],
            "Days_Past_Due": dpd,
            "Utilisation": utilisation.round(4),
            "Income": income_text,
            "Grade": grade,
            "Gender": rng.choice(["F", "M"], n),
            "Comment": [f"note {i} about borrower {rng.integers(1e6)}" for i in range(n)],
            "Noise": rng.normal(size=n),
            "TARGET_LABEL_BAD=1": bad.astype(int),
        }
    )
    frame.loc[rng.random(n) < 0.05, "Utilisation"] = np.nan
    return frame


@pytest.fixture(scope="session")
def loan_table() -> pd.DataFrame:
    return make_table()
