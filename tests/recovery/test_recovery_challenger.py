"""Champion/challenger assignment and test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loanrecovery.recovery.challenger import (
    assign_arms,
    compare_strategies,
    expected_outcomes,
    sample_size_per_arm,
)


def test_assignment_is_reproducible_order_free_and_near_the_share() -> None:
    ids = np.array([f"LN_{i}" for i in range(5000)])
    arms = assign_arms(ids, 0.1, seed=3)
    assert abs(arms.mean() - 0.1) < 0.015
    np.testing.assert_array_equal(assign_arms(ids[::-1], 0.1, seed=3), arms[::-1])
    assert (assign_arms(ids, 0.1, seed=4) != arms).any()


def test_compare_detects_a_real_lift_and_not_a_null_one() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    arm = np.where(rng.random(n) < 0.5, "challenger", "champion")
    plan = pd.DataFrame({"Loan_ID": np.arange(n), "Arm": arm})
    base = rng.normal(1000, 300, n)
    lifted = pd.DataFrame(
        {
            "Loan_ID": np.arange(n),
            "Recovered_Amount": base * np.where(arm == "challenger", 1.1, 1.0),
            "Cost": 10.0,
        }
    )
    test = compare_strategies(plan, lifted)
    assert test.p_value < 1e-6
    assert test.lift_low < 0.1 * 1000 / 990 < test.lift_high
    null = lifted.assign(Recovered_Amount=base)
    assert compare_strategies(plan, null).p_value > 0.001


def test_sample_size_formula() -> None:
    # 2 * (1.96 + 0.8416)^2 * (sd / delta)^2 with sd 300, delta 50 -> 565.1
    assert sample_size_per_arm(300.0, 1000.0, 0.05) == 566
    assert sample_size_per_arm(300.0, 1000.0, 0.10) < 566


def test_expected_outcomes_read_the_truth_for_assigned_actions() -> None:
    truth = {
        "potential_outcomes": {"snapshot": {"A": {"Call": [100.0, 8.0]}, "B": {"SMS": [50.0, 0.5]}}}
    }
    plan = pd.DataFrame({"Loan_ID": ["A", "B", "C"], "Action": ["Call", "None", "Call"]})
    out = expected_outcomes(plan, truth)
    assert out.to_dict("records") == [{"Loan_ID": "A", "Recovered_Amount": 100.0, "Cost": 8.0}]


def test_invalid_share() -> None:
    with pytest.raises(ValueError, match="share"):
        assign_arms(np.array(["a"]), 1.5)
