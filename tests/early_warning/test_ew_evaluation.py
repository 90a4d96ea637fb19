"""Alert-budget metrics, baselines and lead time on hand-made scores."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from loanrecovery.early_warning.evaluation import (
    StaticBaseline,
    budget_metrics,
    choose_cutoff,
    flag_at_budget,
    lead_months,
    lead_time,
    lead_time_by_warning,
    rule_score,
)
from loanrecovery.early_warning.features import STATIC_FEATURES
from loanrecovery.risk import baseline_forest


def test_flag_at_budget_takes_the_top_share_of_each_month() -> None:
    month = np.repeat([1, 2], 10)
    score = np.concatenate([np.arange(10.0), np.arange(10.0)[::-1]])
    ids = np.array([f"L{i}" for i in range(20)])
    flagged = flag_at_budget(score, month, ids, 0.2)
    assert flagged.sum() == 4
    assert set(score[flagged]) == {9.0, 8.0}
    assert flagged[month == 1].sum() == 2


def test_nan_scores_are_never_flagged() -> None:
    score = np.array([np.nan, np.nan, 1.0, np.nan])
    flagged = flag_at_budget(score, np.ones(4), np.array(list("abcd")), 1.0)
    assert flagged.tolist() == [False, False, True, False]


def test_budget_metrics_recall_and_precision() -> None:
    y = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1])
    score = np.array([0.9, 0.8, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05])
    m = budget_metrics(score, y, np.ones(10), np.array(list("abcdefghij")), 0.2)
    assert m["recall_at_budget"] == pytest.approx(0.5)
    assert m["precision_at_budget"] == pytest.approx(0.5)
    assert 0 < m["auc"] < 1


def test_rule_flags_only_recent_missed_payments() -> None:
    feats = pd.DataFrame({"Missed_3": [0, 1, 2], "DPD": [30, 0, 60]})
    s = rule_score(feats)
    assert math.isnan(s[0]) and s[2] > s[1] > 0


def test_lead_time_counts_flags_at_least_k_months_ahead() -> None:
    cutoff = 10
    defaults = pd.Series({"A": 20.0, "B": 18.0, "C": 12.0, "D": np.nan, "E": 5.0})
    flags = pd.DataFrame(
        {
            "Loan_ID": ["A", "A", "B", "C", "D"],
            "Month": [12, 19, 17, 11, 15],
            "Flagged": [True, True, True, True, True],
        }
    )
    out = lead_time(flags, defaults, cutoff)
    # lead 3: eligible defaults with D - 3 > 10 are A and B; A was flagged 8 months ahead
    assert out["3"]["n_defaults"] == 2 and out["3"]["n_flagged"] == 1
    # lead 6: A (20 - 6 > 10) and B (18 - 6 > 10) are eligible; only A's flag (month 12)
    # is at least 6 months ahead
    assert out["6"]["n_defaults"] == 2 and out["6"]["share"] == pytest.approx(0.5)
    months = lead_months(flags, defaults, cutoff)
    assert months["A"] == 8 and months["B"] == 1 and months["C"] == 1
    assert "E" not in months.index  # defaulted before the test window


def test_lead_time_by_warning_splits_the_lead_time_defaults() -> None:
    cutoff, lead = 10, 3
    defaults = pd.Series({"A": 20.0, "B": 18.0, "C": 12.0, "D": np.nan, "E": 5.0})
    flags = pd.DataFrame(
        {"Loan_ID": ["A", "B", "C"], "Month": [12, 14, 11], "Flagged": [True, True, True]}
    )
    # A was current and clean 3 months before its default (sudden); B was 30 days past due.
    features = pd.DataFrame(
        {
            "Loan_ID": ["A", "B"],
            "Month": [17, 15],
            "DPD": [0, 30],
            "Missed_6": [0, 1],
            "Partial_6": [0, 0],
        }
    )
    out = lead_time_by_warning(flags, defaults, cutoff, features, lead=lead)
    whole = lead_time(flags, defaults, cutoff, (lead,))[str(lead)]
    assert out["sudden"]["n_defaults"] == 1 and out["sudden"]["n_flagged"] == 1
    assert out["gradual"]["n_defaults"] == 1 and out["gradual"]["n_flagged"] == 1
    for key in ("n_defaults", "n_flagged"):
        assert out["sudden"][key] + out["gradual"][key] == whole[key]


def test_cutoff_leaves_a_test_window_and_refuses_short_panels() -> None:
    assert choose_cutoff(np.arange(1, 37)) == 24
    with pytest.raises(ValueError, match="needs at least"):
        choose_cutoff(np.arange(1, 10))


def test_static_baseline_is_the_original_forest_on_a_seeded_sample() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(120, len(STATIC_FEATURES))), columns=STATIC_FEATURES)
    frame.iloc[::7, 0] = np.nan
    y = (frame["Age"].fillna(0) + rng.normal(0, 0.5, 120) > 0.5).astype(int).to_numpy()
    baseline = StaticBaseline(max_train_rows=80, random_state=5).fit(frame, y)
    assert baseline.model_.get_params() == baseline_forest(5).get_params()
    assert baseline.model_.n_features_in_ == len(STATIC_FEATURES)
    score = baseline.predict_proba(frame)
    assert score.shape == (120,) and np.all((score >= 0) & (score <= 1))
    again = StaticBaseline(max_train_rows=80, random_state=5).fit(frame, y)
    # Same trees; the forest's two threads add the trees' probabilities in the order they
    # finish, so a score can differ in its last bit (about 2e-16) from one run to the next.
    np.testing.assert_allclose(again.predict_proba(frame), score, rtol=0, atol=1e-12)
