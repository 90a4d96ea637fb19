"""Compiled LightGBM trees: same raw scores as LightGBM, LightGBM whenever not compiled."""

from __future__ import annotations

import copy
import shutil

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from loanrecovery.modeling.candidates import GBMScorer
from loanrecovery.modeling.compiled_trees import CompiledTrees
from loanrecovery.modeling.scoring import train_scoring_model
from loanrecovery.modeling.table import prepare_table

needs_compiler = pytest.mark.skipif(
    shutil.which("cc") is None and shutil.which("gcc") is None, reason="no C compiler"
)


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    X[:, 1] = rng.choice([0.0, 1.0, 2.0, 5.0], n)
    X[rng.random(n) < 0.1, 0] = np.nan
    X[rng.random(n) < 0.05, 2] = 1e-40  # below LightGBM's zero threshold
    y = (X[:, 1] + np.nan_to_num(X[:, 0]) + rng.normal(size=n) > 1.5).astype(int)
    return X, y


def _booster(X: np.ndarray, y: np.ndarray, **params: object) -> lgb.Booster:
    base = {"objective": "binary", "num_leaves": 8, "min_data_in_leaf": 5, "verbose": -1}
    return lgb.train({**base, **params}, lgb.Dataset(X, y), 30)


@needs_compiler
@pytest.mark.parametrize("params", [{}, {"zero_as_missing": True}, {"use_missing": False}])
def test_compiled_scores_equal_lightgbm(params: dict[str, object]) -> None:
    X, y = _data(3000, 0)
    booster = _booster(X, y, **params)
    trees = CompiledTrees(booster)
    X_new, _ = _data(5000, 1)
    X_new[:7, 3] = [np.nan, 0.0, -0.0, 1e-40, -1e-40, 3.4e38, -3.4e38]
    score = trees.predict(X_new)
    assert trees.compiled
    np.testing.assert_allclose(score, booster.predict(X_new, raw_score=True), rtol=0, atol=1e-9)


def test_falls_back_to_lightgbm_without_compiler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOANRECOVERY_NO_COMPILE", "1")
    X, y = _data(2000, 2)
    booster = _booster(X, y)
    trees = CompiledTrees(booster)
    score = trees.predict(X)
    assert not trees.compiled
    np.testing.assert_array_equal(score, booster.predict(X, raw_score=True))


def test_categorical_splits_use_lightgbm() -> None:
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.integers(0, 6, 2000), rng.normal(size=2000)]).astype(np.float32)
    y = (np.isin(X[:, 0], [1, 4]) ^ (rng.random(2000) < 0.1)).astype(int)
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "min_data_per_group": 5, "cat_smooth": 1},
        lgb.Dataset(X, y, categorical_feature=[0]),
        20,
    )
    trees = CompiledTrees(booster)
    score = trees.predict(X)
    assert not trees.compiled
    np.testing.assert_array_equal(score, booster.predict(X, raw_score=True))


@needs_compiler
def test_compiled_path_sums_equal_gbm_contributions() -> None:
    X, y = _data(3000, 4)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = GBMScorer(max_rounds=40, early_stopping=5, n_jobs=1).fit(frame, y)
    trees = CompiledTrees(model.booster_, contributions=True)
    expected_score, expected = model.score_and_contributions(frame)
    sums = trees.leaf_sums(
        model._matrix(frame),
        model._leaf_table.toarray(),
        model._leaf_offsets,
        lambda n: model.score_and_contributions(frame.iloc[:n])[1],
    )
    assert sums is not None and trees.compiled
    np.testing.assert_allclose(sums, expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        sums.sum(axis=1) + model.expected_value_, expected_score, rtol=0, atol=1e-9
    )


def test_scoring_model_same_table_with_and_without_compiled_trees(
    loan_table: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    numeric = loan_table.drop(columns=["Income", "Grade", "Gender", "Comment"])
    prepared = prepare_table(numeric, target="TARGET_LABEL_BAD=1")
    model = train_scoring_model(
        prepared, input_columns=list(numeric.columns), id_columns=["Loan_ID"], folds=3, n_jobs=1
    )
    plain = copy.deepcopy(model)
    for n_reasons in (0, 3):
        fast = model.score(numeric, n_reasons=n_reasons)
        monkeypatch.setenv("LOANRECOVERY_NO_COMPILE", "1")
        slow = copy.deepcopy(plain).score(numeric, n_reasons=n_reasons)
        monkeypatch.delenv("LOANRECOVERY_NO_COMPILE")
        pd.testing.assert_frame_equal(fast.table, slow.table, check_exact=False, atol=1e-9)
        pd.testing.assert_frame_equal(fast.drift, slow.drift)
