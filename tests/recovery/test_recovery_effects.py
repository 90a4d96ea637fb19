"""Doubly robust effects recover the truth of a confounded synthetic history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from loanrecovery.actions import ACTIONS
from loanrecovery.exceptions import DataFileError
from loanrecovery.recovery.effects import (
    ActionEffectEstimator,
    cluster_interval,
    cluster_se,
)

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


values = st.lists(
    st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False), min_size=2, max_size=40
)


@given(values)
@settings(max_examples=60, deadline=None)
def test_cluster_se_with_one_row_per_account_is_the_usual_se(v: list[float]) -> None:
    x = np.array(v)
    assert cluster_se(x, np.arange(x.size)) == pytest.approx(
        x.std(ddof=1) / np.sqrt(x.size), rel=1e-9, abs=1e-9
    )


@given(values, st.integers(2, 6))
@settings(max_examples=60, deadline=None)
def test_cluster_se_does_not_count_copies_of_an_account_as_evidence(
    v: list[float], copies: int
) -> None:
    x = np.array(v)
    repeated = np.repeat(x, copies)
    accounts = np.repeat(np.arange(x.size), copies)
    assert cluster_se(repeated, accounts) == pytest.approx(
        cluster_se(x, np.arange(x.size)), rel=1e-9, abs=1e-9
    )


def test_cluster_se_needs_two_accounts_and_a_label_per_value() -> None:
    assert np.isnan(cluster_se(np.array([1.0, 2.0, 3.0]), np.zeros(3)))
    with pytest.raises(ValueError, match="missing label"):
        cluster_se(np.array([1.0, 2.0, 3.0]), np.array(["a", None, "b"], dtype=object))
    with pytest.raises(ValueError, match="same length"):
        cluster_se(np.array([1.0, 2.0, 3.0]), np.array([0, 1]))


def test_cluster_interval_uses_t_on_the_number_of_accounts() -> None:
    values = np.array([1.0, 2.0, 4.0, 4.5, 7.0, 8.0])
    accounts = np.array([0, 0, 1, 1, 2, 2])
    mean, low, high = cluster_interval(values, accounts)
    se = cluster_se(values, accounts)
    t = stats.t.ppf(0.975, 2)  # 3 accounts
    assert mean == pytest.approx(values.mean())
    assert (low, high) == pytest.approx((mean - t * se, mean + t * se))
    assert np.isnan(cluster_interval(np.array([]), np.array([]))[0])


@given(
    st.lists(st.integers(0, 3), min_size=20, max_size=120),
    st.integers(1, 40),
    st.integers(2, 5),
    st.integers(0, 3),
)
@settings(max_examples=80, deadline=None)
def test_every_estimated_action_is_in_every_training_fold(
    codes: list[int], n_accounts: int, n_folds: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    action = np.array(ACTIONS[:4], dtype=object)[np.array(codes)]
    accounts = rng.integers(0, n_accounts, len(codes))
    est = ActionEffectEstimator(n_folds=n_folds, random_state=seed)
    try:
        present, folds = est._actions_and_folds(action, accounts)
    except DataFileError as err:
        assert "at least two actions" in str(err)
        return
    kept = action[np.isin(action, present)]
    for train, test in folds:
        assert set(kept[train]) == set(present)
        assert not set(accounts[np.isin(action, present)][train]) & set(
            accounts[np.isin(action, present)][test]
        )
    for name in present:
        assert (action == name).sum() >= 2 * n_folds
        assert np.unique(accounts[action == name]).size >= n_folds


def test_an_action_on_too_few_accounts_is_left_out() -> None:
    features, action, recovery, cost, segment, _ = _history(2, n=900)
    # every harsh action taken on the same two accounts: 10+ rows but only 2 accounts
    features = features.copy()
    features.loc[action == USED[2], "Loan_ID"] = np.where(
        np.arange((action == USED[2]).sum()) % 2 == 0, -1, -2
    )
    est = ActionEffectEstimator(n_folds=3, n_estimators=30, random_state=0)
    est.fit(features, action, recovery, cost, segment)
    assert est.actions_ == USED[:2]
    assert set(est.effects_["action"]) == set(USED[:2])


def test_fewer_than_two_comparable_actions_is_a_clear_error() -> None:
    features, action, recovery, cost, segment, _ = _history(3, n=300)
    only = np.array([USED[0]] * len(action), dtype=object)
    only[:4] = USED[1]  # 4 rows: too few to estimate
    est = ActionEffectEstimator(n_folds=3, n_estimators=30, random_state=0)
    with pytest.raises(DataFileError, match=r"at least two actions need 6 rows on 3 accounts"):
        est.fit(features, only, recovery, cost, segment)


def test_rows_of_one_account_are_one_fold_and_one_piece_of_evidence() -> None:
    """Each account's history sent twice: the intervals must not narrow by sqrt(2)."""
    features, action, recovery, cost, segment, _ = _history(1, n=1500)
    once = ActionEffectEstimator(n_folds=3, n_estimators=60, random_state=0)
    once.fit(features, action, recovery, cost, segment)
    twice = ActionEffectEstimator(n_folds=3, n_estimators=60, random_state=0)
    twice.fit(
        pd.concat([features, features], ignore_index=True),
        np.concatenate([action, action]),
        np.concatenate([recovery, recovery]),
        np.concatenate([cost, cost]),
        np.concatenate([segment, segment]),
    )
    assert twice.groups_.max() + 1 == len(features)
    width = {
        name: (est.effects_["recovery_dr_high"] - est.effects_["recovery_dr_low"]).to_numpy()
        for name, est in (("once", once), ("twice", twice))
    }
    # independent-row errors would shrink every interval to 1/sqrt(2) = 0.71 of its width
    assert np.all(width["twice"] > 0.85 * width["once"])
