"""Point-in-time features: hand-checked windows and the no-look-ahead proof."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from loanrecovery.contract.payments import validate_panel
from loanrecovery.early_warning.features import PANEL_FEATURES, STATIC_FEATURES, build_features

LOAN = pd.DataFrame(
    {
        "Loan_ID": ["A"],
        "Loan_Amount": [1000.0],
        "Loan_Tenure": [10],
        "Interest_Rate": [0.0],
        "Monthly_EMI": [100.0],
        "Origination_Month": [0],
        "Loan_Type": ["Auto"],
        "Employment_Type": ["Salaried"],
        "Monthly_Income": [1000.0],
        "Gender": ["Female"],
        "Days_Past_Due": [999],  # snapshot behaviour: must not leak into any month
    }
)


def _one_loan() -> pd.DataFrame:
    paid = [100.0, 0.0, 50.0, 100.0, 0.0, 100.0]
    dpd = [0, 30, 30, 30, 60, 60]
    return pd.DataFrame(
        {
            "Loan_ID": "A",
            "Month": np.arange(1, 7),
            "Amount_Due": 100.0,
            "Amount_Paid": paid,
            "Days_Past_Due": dpd,
            "Outstanding_Balance": [900.0, 900.0, 850.0, 750.0, 750.0, 650.0],
        }
    )


def test_windows_match_a_hand_count() -> None:
    f = build_features(_one_loan(), LOAN).set_index("Month")
    assert f.loc[3, "Pay_Ratio_3"] == pytest.approx(150 / 300)
    assert f.loc[6, "Pay_Ratio_6"] == pytest.approx(350 / 600)
    assert f.loc[6, "Pay_Ratio_1"] == pytest.approx(1.0)
    assert f.loc[5, "Missed_3"] == 1 and f.loc[5, "Missed_6"] == 2
    assert f.loc[3, "Partial_3"] == 1
    assert f.loc[5, "Months_Since_Full"] == 1
    assert f.loc[3, "Months_Since_Missed"] == 1
    assert f.loc[1, "Months_Since_Missed"] == 99  # never
    assert f.loc[5, "DPD_Change_1"] == 30 and f.loc[6, "DPD_Change_3"] == 30
    assert f.loc[6, "DPD_Max_6"] == 60 and f.loc[4, "DPD_Max_Ever"] == 30
    assert f.loc[2, "Months_On_Book"] == 2
    # zero interest: the schedule after k instalments is 1000 - 100 k
    assert f.loc[2, "Balance_Vs_Schedule"] == pytest.approx(900 / 800)
    assert f.loc[1, "EMI_To_Income"] == pytest.approx(0.1)


def test_no_snapshot_behaviour_or_protected_column_is_a_feature() -> None:
    names = set(STATIC_FEATURES) | set(PANEL_FEATURES)
    for banned in (
        "Gender",
        "Days_Past_Due",
        "Num_Missed_Payments",
        "Payment_History",
        "Outstanding_Loan_Amount",
        "Collection_Attempts",
        "Recovery_Status",
    ):
        assert banned not in names
    f = build_features(_one_loan(), LOAN)
    assert (f["DPD"] != 999).all()


def test_windows_do_not_cross_loans() -> None:
    other = _one_loan().assign(Loan_ID="B", Amount_Paid=0.0, Days_Past_Due=300)
    loans = pd.concat([LOAN, LOAN.assign(Loan_ID="B")])
    both = build_features(pd.concat([_one_loan(), other], ignore_index=True), loans)
    alone = build_features(_one_loan(), LOAN)
    pd.testing.assert_frame_equal(both.iloc[:6].reset_index(drop=True), alone)


@pytest.mark.parametrize("t", [3, 8, 15])
def test_no_feature_at_month_t_changes_when_later_months_are_altered(
    t: int, book_factory: Callable[..., tuple[pd.DataFrame, pd.DataFrame]]
) -> None:
    loans, payments = book_factory(n_loans=150, n_months=20, seed=3)
    panel = validate_panel(payments, loans).accepted
    before = build_features(panel, loans)

    rng = np.random.default_rng(t)
    later = panel["Month"] > t
    altered = panel.copy()
    n = int(later.sum())
    altered.loc[later, "Amount_Paid"] = rng.uniform(0, 5_000, n).round(2)
    altered.loc[later, "Amount_Due"] = rng.uniform(0, 5_000, n).round(2)
    altered.loc[later, "Days_Past_Due"] = rng.integers(0, 12, n) * 30
    altered.loc[later, "Outstanding_Balance"] = rng.uniform(0, 1e5, n).round(2)
    # ...and some loans lose their later months altogether.
    dropped = altered["Loan_ID"].isin(altered["Loan_ID"].unique()[::3]) & later
    altered = altered.loc[~dropped].reset_index(drop=True)
    after = build_features(altered, loans)

    keep_before = before.loc[before["Month"] <= t].reset_index(drop=True)
    keep_after = after.loc[after["Month"] <= t].reset_index(drop=True)
    assert len(keep_before) > 0
    pd.testing.assert_frame_equal(keep_before, keep_after)
    # the alteration did change later months, so the test has teeth
    changed = before.loc[before["Month"] > t, "Pay_Ratio_1"].reset_index(drop=True)
    assert not changed.equals(after.loc[after["Month"] > t, "Pay_Ratio_1"].reset_index(drop=True))
