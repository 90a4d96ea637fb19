"""Property test (Hypothesis): features at month t ignore every later month."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loanrecovery.early_warning.features import build_features

LOANS = pd.DataFrame(
    {
        "Loan_ID": ["A", "B"],
        "Loan_Amount": [5000.0, 800.0],
        "Loan_Tenure": [24, 12],
        "Interest_Rate": [12.0, 0.0],
        "Monthly_EMI": [235.0, 70.0],
        "Origination_Month": [-3, 1],
    }
)

_amount = st.floats(0, 500, allow_nan=False, width=32)


@st.composite
def panels(draw: st.DrawFn) -> tuple[pd.DataFrame, int, pd.DataFrame]:
    frames = []
    for loan, start in (("A", 1), ("B", 2)):
        n = draw(st.integers(1, 16))
        frames.append(
            pd.DataFrame(
                {
                    "Loan_ID": loan,
                    "Month": np.arange(start, start + n),
                    "Amount_Due": draw(st.lists(_amount, min_size=n, max_size=n)),
                    "Amount_Paid": draw(st.lists(_amount, min_size=n, max_size=n)),
                    "Days_Past_Due": draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)),
                    "Outstanding_Balance": draw(st.lists(_amount, min_size=n, max_size=n)),
                }
            )
        )
    panel = pd.concat(frames, ignore_index=True)
    panel["Days_Past_Due"] *= 30
    t = draw(st.integers(1, 17))
    later = panel["Month"] > t
    altered = panel.copy()
    k = int(later.sum())
    altered.loc[later, "Amount_Paid"] = draw(st.lists(_amount, min_size=k, max_size=k))
    altered.loc[later, "Days_Past_Due"] = 30 * np.asarray(
        draw(st.lists(st.integers(0, 6), min_size=k, max_size=k)), dtype=np.int64
    )
    if draw(st.booleans()):
        altered = altered.loc[~later | (altered["Loan_ID"] == "A")]
    return panel, t, altered.reset_index(drop=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(panels())
def test_features_up_to_t_ignore_later_months(case: tuple[pd.DataFrame, int, pd.DataFrame]) -> None:
    panel, t, altered = case
    before = build_features(panel, LOANS)
    after = build_features(altered, LOANS)
    pd.testing.assert_frame_equal(
        before.loc[before["Month"] <= t].reset_index(drop=True),
        after.loc[after["Month"] <= t].reset_index(drop=True),
    )
