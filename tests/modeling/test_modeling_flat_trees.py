"""Flattened LightGBM trees: the boosters' own numbers, bit for bit, or LightGBM itself."""

from __future__ import annotations

import logging

import lightgbm as lgb
import numpy as np
import pytest

from loanrecovery.modeling import flat_trees
from loanrecovery.modeling.flat_trees import FlatForest


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(600, 5))
    X[:, 4] = rng.integers(0, 6, 600)  # a categorical feature with 6 values
    X[rng.random(600) < 0.1, 1] = np.nan  # missing values take the learned default side
    X[rng.random(600) < 0.2, 2] = 0.0
    y = X[:, 0] + np.nan_to_num(X[:, 1]) * (X[:, 4] % 3) + (X[:, 2] == 0) + rng.normal(size=600)
    return X, y


def _booster(X, y, seed: int, **extra) -> lgb.Booster:
    params = {"verbose": -1, "seed": seed, "num_leaves": 15, "min_data_in_leaf": 5, **extra}
    data = lgb.Dataset(X, y, categorical_feature=[4], free_raw_data=False)
    return lgb.train(params, data, num_boost_round=40)


def test_sums_and_sums_by_value_are_the_boosters_predictions_bit_for_bit(data):
    X, y = data
    boosters = [_booster(X, y, seed) for seed in (1, 2)]
    boosters.append(_booster(X, (y > 0).astype(float), 3, objective="binary"))
    forest = FlatForest(boosters, probe=X[:50])
    assert forest.native
    expected = np.column_stack([b.predict(X, raw_score=True) for b in boosters])
    got = np.vstack([forest.sums(row) for row in X])
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(forest.sums_many(X), expected)  # every row in one call
    np.testing.assert_array_equal(forest.sums_many(X[::-7]), expected[::-7])  # a view
    assert forest.sums_many(X[:0]).shape == (0, 3)
    with pytest.raises(ValueError, match="matrix of rows"):
        forest.sums_many(X[0])
    with pytest.raises(ValueError, match="one row"):  # not the first row read silently
        forest.sums(X[:2])
    for row in X[:40]:
        by_value = forest.sums_by_value(row, feature=4, n_values=6)
        rows = np.tile(row, (6, 1))
        rows[:, 4] = np.arange(6)
        want = np.vstack([b.predict(rows, raw_score=True) for b in boosters])
        np.testing.assert_array_equal(by_value, want)


def test_leaves_are_lightgbms_leaves_numbered_over_all_trees(data):
    X, y = data
    booster = _booster(X, y, 4)
    forest = FlatForest([booster])
    leaves = booster.predict(X[:30], pred_leaf=True)
    sizes = [tree["num_leaves"] for tree in booster.dump_model()["tree_info"]]
    offsets = np.r_[0, np.cumsum(sizes)[:-1]]
    got = np.vstack([forest.leaves(row) for row in X[:30]])
    np.testing.assert_array_equal(got, leaves + offsets)


def test_without_a_compiler_nothing_is_native_and_it_is_said_once(data, monkeypatch, caplog):
    X, y = data
    monkeypatch.setenv("LOANRECOVERY_NO_COMPILE", "1")
    monkeypatch.setattr(flat_trees, "_STATE", {})
    with caplog.at_level(logging.WARNING, logger=flat_trees.__name__):
        first = FlatForest([_booster(X, y, 5)])
        second = FlatForest([_booster(X, y, 6)])
    assert not first.native and not second.native
    assert not flat_trees.native_available()
    assert sum("no C compiler" in r.getMessage() for r in caplog.records) == 1


def test_sums_by_value_refuses_more_values_than_a_mask_holds(data):
    X, y = data
    forest = FlatForest([_booster(X, y, 8)])
    with pytest.raises(ValueError, match="between 1 and 32"):
        forest.sums_by_value(X[0], feature=4, n_values=33)
