"""Doubly robust effects recover the truth of a confounded synthetic history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loanrecovery.actions import ACTIONS
from loanrecovery.recovery.effects import ActionEffectEstimator

USED = ACTIONS[:3]


def _history(seed: int, n: int = 3000):
    rng = np.random.default_rng(seed)
    risk = rng.normal(size=n)
    other = rng.normal(size=n)
    balance = rng.lognormal(8, 0.3, n)
    logits = np.column_stack([np.zeros(n), 1.2 * risk, 2.0 * risk])  # riskier -> harsher
    prob = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    action = (rng.random(n)[:, None] > prob.cumsum(axis=1)).sum(axis=1)
    effect = np.array([0.0, 0.05, 0.10])
    base = 0.30 - 0.08 * risk + 0.02 * other
    potential = balance[:, None] * (base[:, None] + effect[None, :])
    recovery = potential[np.arange(n), action] + rng.normal(0, 150, n)
    cost = np.array([1.0, 8.0, 50.0])[action] + rng.normal(0, 1, n)
    features = pd.DataFrame(
        {"Loan_ID": np.arange(n), "Risk": risk, "Other": other, "Balance": balance}
    )
    segment = np.where(other > 0, "high", "low")
    return features, np.array(USED, dtype=object)[action], recovery, cost, segment, potential


@pytest.fixture(scope="module")
def fitted():
    features, action, recovery, cost, segment, potential = _history(0)
    est = ActionEffectEstimator(n_folds=3, n_estimators=150, random_state=0)
    est.fit(features, action, recovery, cost, segment)
    return est, features, action, potential, segment


def test_corrected_intervals_cover_truth_where_naive_is_biased(fitted) -> None:
    est, _, _, potential, segment = fitted
    table = est.effects_.set_index(["segment", "action"])
    covered = []
    for j, name in enumerate(USED):
        for seg in ("All", "high", "low"):
            mask = np.ones(len(segment), bool) if seg == "All" else segment == seg
            truth = potential[mask, j].mean()
            row = table.loc[(seg, name)]
            covered.append(row["recovery_dr_low"] <= truth <= row["recovery_dr_high"])
    assert np.mean(covered) >= 8 / 9
    harsh = table.loc[("All", USED[2])]
    truth = potential[:, 2].mean()
    # the harshest action went to the riskiest: the naive mean is far below the truth
    assert harsh["recovery_naive_high"] < truth


def test_contrast_and_predictions(fitted) -> None:
    est, features, _, potential, _ = fitted
    c = est.contrast(USED[2], USED[0])
    true_diff = (potential[:, 2] - potential[:, 0]).mean()
    assert c["recovery_diff_low"] <= true_diff <= c["recovery_diff_high"]
    rec, cost = est.predict(features.head(50))
    assert rec.shape == (50, len(ACTIONS))
    assert np.isnan(rec[:, 3:]).all() and np.isfinite(rec[:, :3]).all()
    assert np.corrcoef(rec[:, 2], potential[:50, 2])[0, 1] > 0.8


def test_predict_names_missing_features(fitted) -> None:
    est, features, *_ = fitted
    with pytest.raises(ValueError, match="missing"):
        est.predict(features.drop(columns=["Other"]))
