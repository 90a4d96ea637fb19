"""Champion selection that does not lose (issue 11 item 8): never worse out of fold than any
candidate it was chosen over (the original forest included), the choice measured nested."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from loanrecovery.modeling import BaselineForest, ChampionClassifier
from loanrecovery.modeling.champion import choose_champion, nested_selection_auc
from loanrecovery.modeling.validation import stratified_splits


def simple_table(n: int = 700, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """One linear signal among noise: a straight-line model is all there is to find."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 8)), columns=[f"noise_{i}" for i in range(8)])
    X["signal"] = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-1.5 + 1.2 * X["signal"])))).astype(int)
    return X, y.to_numpy()


@pytest.fixture(scope="module")
def fitted() -> tuple[ChampionClassifier, pd.DataFrame, np.ndarray]:
    X, y = simple_table()
    model = ChampionClassifier(cv=3, n_jobs=1, gbm_params={"max_rounds": 200}).fit(X, y)
    return model, X, y


def test_champion_never_loses_to_a_candidate(fitted) -> None:  # type: ignore[no-untyped-def]
    model, _, _ = fitted
    assert {"gbm", "scorecard", "forest"} <= set(model.cv_auc_)  # every figure reported
    best = model.cv_auc_[model.champion_]
    assert all(best >= auc for auc in model.cv_auc_.values())
    assert best >= model.cv_auc_["forest"]  # the original forest it is compared with


def test_a_simple_candidate_wins_when_it_is_better() -> None:
    """Boosting held to one shallow tree is the weak candidate here: the champion is never it."""
    X, y = simple_table(n=500, seed=3)
    weak = {"max_rounds": 1, "num_leaves": 2, "min_child_samples": 200}
    model = ChampionClassifier(cv=3, n_jobs=1, gbm_params=weak).fit(X, y)
    simple = max(model.cv_auc_["scorecard"], model.cv_auc_["forest"])
    assert simple > model.cv_auc_["gbm"] + 0.02
    assert model.weights_.get("gbm", 0.0) < 0.5, model.champion_
    assert model.cv_auc_[model.champion_] >= simple


def test_the_choice_is_measured_on_folds_it_was_not_made_on(fitted) -> None:  # type: ignore[no-untyped-def]
    model, _, _ = fitted
    assert np.isfinite(model.selection_auc_)
    assert set(model.fold_auc_) == {"gbm", "scorecard", "forest"}
    # nested, the choice is no better than the best fold-mean figure by more than noise
    assert model.selection_auc_ <= max(model.fold_auc_.values()) + 0.02


def test_forest_contributions_add_up() -> None:
    X, y = simple_table(n=300, seed=1)
    forest = BaselineForest(n_estimators=20, n_jobs=1).fit(X, y)
    score, contributions = forest.score_and_contributions(X)
    np.testing.assert_allclose(score, forest.decision_function(X), atol=1e-9)
    np.testing.assert_allclose(contributions.sum(axis=1) + forest.expected_value_, score, atol=1e-6)
    # the signal column carries the forest's ranking
    assert np.argmax(np.abs(contributions).mean(axis=0)) == list(X.columns).index("signal")


@given(seed=st.integers(0, 10_000))
def test_choice_is_at_least_every_candidate(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = (rng.random(120) < 0.3).astype(int)
    if y.min() == y.max():
        return
    oof = {name: rng.normal(size=120) + rng.random() * y for name in ("gbm", "scorecard", "forest")}
    name, weights, aucs = choose_champion(oof, y)
    chosen = sum(w * oof[k] for k, w in weights.items())
    auc = roc_auc_score(y, chosen)
    assert auc == pytest.approx(aucs[name])
    assert all(auc >= roc_auc_score(y, s) - 1e-12 for s in oof.values())
    splits = stratified_splits(y, 3, 0)
    selection, per_candidate, chosen_names = nested_selection_auc(oof, y, splits)
    assert len(chosen_names) == 3 and set(per_candidate) == set(oof)
    assert 0.0 <= selection <= 1.0
