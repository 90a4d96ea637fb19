"""A month missing from a loan's panel rows is unknown: windows still count months."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from loanrecovery.contract.payments import PANEL_COLUMNS
from loanrecovery.early_warning.features import PANEL_FEATURES, build_features

LOANS = pd.DataFrame(
    {
        "Loan_ID": ["A", "B"],
        "Loan_Amount": [1200.0, 900.0],
        "Loan_Tenure": [24, 24],
        "Interest_Rate": [12.0, 10.0],
        "Monthly_EMI": [100.0, 80.0],
        "Monthly_Income": [2000.0, 1500.0],
    }
)


def _panel(paid_a: list[float], months_a: list[int]) -> pd.DataFrame:
    rows = [
        ("A", m, 100.0, p, 0 if p >= 95 else 30, 1000.0 - 10 * m)
        for m, p in zip(months_a, paid_a, strict=True)
    ]
    rows += [("B", m, 80.0, 80.0, 0, 800.0 - 10 * m) for m in range(1, 11)]
    return pd.DataFrame(rows, columns=list(PANEL_COLUMNS))


def test_months_since_counts_calendar_months_across_a_gap() -> None:
    months = [1, 2, 3, 5, 6, 7, 8]  # month 4 missing
    paid = [100.0, 0.0, 100.0, 100.0, 100.0, 100.0, 100.0]  # missed in month 2
    feats = build_features(_panel(paid, months), LOANS)
    a = feats[feats["Loan_ID"] == "A"].set_index("Month")
    assert list(a.index) == months  # one row per panel row, none for the missing month
    assert a.loc[8, "Months_Since_Missed"] == 6
    assert a.loc[5, "Missed_3"] == 0  # months 3, 4 (unknown), 5
    assert a.loc[3, "Missed_3"] == 1
    assert a.loc[5, "DPD_Change_1"] == 0  # DPD of month 4 carried forward from month 3


@settings(max_examples=25, deadline=None)
@given(missing=st.sets(st.integers(2, 11), max_size=4), seed=st.integers(0, 1000))
def test_a_missing_month_equals_an_unknown_month(missing: set[int], seed: int) -> None:
    """Dropping months gives the same features on the remaining months as sending them
    with nothing due, nothing paid and the previous month's DPD and balance."""
    rng = np.random.default_rng(seed)
    months = list(range(1, 13))
    paid = list(np.where(rng.random(12) < 0.3, 0.0, 100.0))
    full = _panel(paid, months)
    unknown = full.copy()
    is_a = unknown["Loan_ID"] == "A"
    for m in sorted(missing):
        here = is_a & (unknown["Month"] == m)
        before = unknown.loc[is_a & (unknown["Month"] == m - 1)].iloc[0]
        unknown.loc[here, ["Amount_Due", "Amount_Paid"]] = 0.0
        unknown.loc[here, "Days_Past_Due"] = before["Days_Past_Due"]
        unknown.loc[here, "Outstanding_Balance"] = before["Outstanding_Balance"]
    dropped = full.loc[~(is_a & full["Month"].isin(missing))].reset_index(drop=True)
    got = build_features(dropped, LOANS)
    want = build_features(unknown, LOANS)
    want = want.loc[~((want["Loan_ID"] == "A") & want["Month"].isin(missing))]
    # Sent with nothing due, a month counts as fully paid; a missing month does not.
    cols = [c for c in PANEL_FEATURES if c != "Months_Since_Full"]
    pd.testing.assert_frame_equal(
        got[cols].reset_index(drop=True), want[cols].reset_index(drop=True)
    )
