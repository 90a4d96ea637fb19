"""Insights are computed from the data, with intervals."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from loanrecovery.insights import compute_insights, risk_ratio, wilson_interval


def test_risk_ratio_known_values():
    ratio, low, high = risk_ratio(20, 100, 10, 100)
    assert math.isclose(ratio, 2.0)
    # Katz interval: exp(log 2 +- 1.96 * sqrt(1/20 - 1/100 + 1/10 - 1/100))
    se = math.sqrt(1 / 20 - 1 / 100 + 1 / 10 - 1 / 100)
    assert math.isclose(low, 2 * math.exp(-1.959964 * se), rel_tol=1e-4)
    assert math.isclose(high, 2 * math.exp(1.959964 * se), rel_tol=1e-4)


def test_wilson_interval_contains_rate():
    low, high = wilson_interval(30, 100)
    assert low < 0.3 < high
    assert all(math.isnan(v) for v in wilson_interval(0, 0))  # nothing to estimate


def test_insights_follow_the_data(loans):
    bad = loans["Default_Next_6M"].to_numpy(dtype=float)
    segments = np.array(["Low Risk"] * len(loans), dtype=object)
    found = {i.key: i for i in compute_insights(loans, bad, segments)}
    missed = found["three_plus_missed_payments"]
    table = missed.table
    many = loans["Num_Missed_Payments"] >= 3
    assert table.loc["3+ missed payments", "Loans"] == many.sum()
    assert math.isclose(table.loc["3+ missed payments", "Bad_Rate"], bad[many].mean())
    assert "risk ratio" in missed.finding
    # no collection history or panel: said plainly
    assert "Not testable" in found["reminders_by_segment"].finding


def test_collection_history_summary(loans):
    collections = pd.DataFrame(
        {
            "Loan_ID": ["LN_1", "LN_2", "LN_3", "LN_4"],
            "Month": [1, 2, 3, 4],
            "Action": ["Legal Action", "Legal Action", "Settlement Offer", "Settlement Offer"],
            "Cost": [1000.0, 1200.0, 50.0, 70.0],
            "Recovered_Amount": [5000.0, 7000.0, 2000.0, 4000.0],
            "Balance_At_Action": [10000.0] * 4,
        }
    )
    segments = np.array(["Low Risk"] * len(loans), dtype=object)
    found = {i.key: i for i in compute_insights(loans, None, segments, collections=collections)}
    method = found["recovery_by_collection_method"]
    assert method.table.loc["Legal Action", "Mean_Recovered"] == 6000.0
    assert "+100%" in method.finding  # 6000 vs 3000 recovered
    assert "Observational" in method.caveat
