"""The snapshot risk model: leakage-free target, honest out-of-fold scores."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

from loanrecovery.features import LoanFeatures
from loanrecovery.risk import (
    ORIGINAL_FOREST,
    _classification_metrics,
    baseline_forest,
    baseline_from_champion,
    fit_champion_model,
    fit_risk_model,
    resolve_target,
)


def test_future_target_excludes_loans_already_in_default(loans):
    target = resolve_target(loans)
    assert target.name == "Default_Next_6M"
    np.testing.assert_array_equal(target.in_default, loans["Days_Past_Due"] >= 90)
    assert not target.trainable[target.in_default].any()


def test_recovery_status_target_without_future_outcome(loans):
    target = resolve_target(loans.drop(columns="Default_Next_6M"))
    assert target.name == "Recovery_Status"
    expected = (loans["Recovery_Status"] != "Fully Recovered").astype(float)
    np.testing.assert_array_equal(target.values, expected)


def test_no_target_at_all(loans):
    assert resolve_target(loans.drop(columns=["Default_Next_6M", "Recovery_Status"])) is None


def test_scores_are_out_of_fold_and_in_default_scored_one(loans):
    features = LoanFeatures().fit_transform(loans)
    target = resolve_target(loans)
    result = fit_risk_model(features, target)
    assert np.all(result.scores[target.in_default] == 1.0)
    assert np.isfinite(result.scores).all()
    assert result.metrics["validation"].startswith("5-fold")
    # out-of-fold scores differ from the in-sample fit of the final model
    train = target.trainable
    in_sample = result.model.predict_proba(features.loc[train])[:, 1]
    assert not np.allclose(in_sample, result.scores[train])
    assert 0.5 < result.metrics["roc_auc"] <= 1.0
    for key in ("accuracy", "precision", "recall", "f1"):
        assert 0.0 <= result.metrics[key] <= 1.0
    # the metrics table is the out-of-fold scores' at the 0.5 threshold
    y, oof = target.values[train].astype(int), result.scores[train]
    assert result.metrics["threshold"] == 0.5
    assert result.metrics["accuracy"] == pytest.approx(np.mean((oof >= 0.5) == y))
    assert result.metrics["roc_auc"] == pytest.approx(roc_auc_score(y, oof))
    assert result.roc["fpr"][0] == 0.0 and result.roc["tpr"][-1] == 1.0


def test_original_forest_spec():
    forest = baseline_forest()
    assert (forest.n_estimators, forest.max_depth, forest.class_weight, forest.random_state) == (
        150,
        8,
        "balanced",
        42,
    )
    assert {key: forest.get_params()[key] for key in ORIGINAL_FOREST} == dict(ORIGINAL_FOREST)


def test_original_forest_seed_size_and_threads_are_the_only_changes():
    small = baseline_forest(7, n_estimators=10, n_jobs=1).get_params()
    default = baseline_forest().get_params()
    changed = {key for key in default if small[key] != default[key]}
    assert changed == {"random_state", "n_estimators", "n_jobs"}
    assert (small["random_state"], small["n_estimators"], small["n_jobs"]) == (7, 10, 1)


def _f1_at(y: np.ndarray, score: np.ndarray, cut: float) -> float:
    return float(f1_score(y, (score >= cut).astype(int), zero_division=0))


def test_metrics_table_at_a_given_and_at_the_best_f1_threshold():
    rng = np.random.default_rng(3)
    y = (rng.random(300) < 0.2).astype(int)
    score = np.clip(0.3 * y + rng.normal(0.3, 0.2, 300), 0, 1)
    given = _classification_metrics(y, score, 0.5)
    assert list(given) == ["accuracy", "precision", "recall", "f1", "threshold", "roc_auc"]
    flags = (score >= 0.5).astype(int)
    assert given["accuracy"] == pytest.approx(np.mean(flags == y))
    assert given["precision"] == pytest.approx(precision_score(y, flags))
    assert given["recall"] == pytest.approx(recall_score(y, flags))
    assert given["roc_auc"] == pytest.approx(roc_auc_score(y, score))

    best = _classification_metrics(y, score, None, extra=("brier",))
    assert list(best)[-2:] == ["roc_auc", "brier"]
    brute = max(_f1_at(y, score, cut) for cut in np.unique(score))
    assert best["f1"] == pytest.approx(brute)
    assert _f1_at(y, score, best["threshold"]) == pytest.approx(brute)
    assert best["brier"] == pytest.approx(np.mean((score - y) ** 2))


def test_single_class_is_refused(loans):
    loans = loans.assign(Default_Next_6M=0)
    with pytest.raises(ValueError, match="single class"):
        fit_risk_model(LoanFeatures().fit_transform(loans), resolve_target(loans))


def test_baseline_from_the_champion_is_the_forest_evaluated_out_of_fold(loans):
    features = LoanFeatures().fit_transform(loans)
    target = resolve_target(loans)
    champion = fit_champion_model(features, target)
    reused = baseline_from_champion(champion, target)
    refit = fit_risk_model(features, target)
    assert reused is not None and reused.model is None
    train = target.trainable
    y, oof = target.values[train].astype(int), reused.scores[train]
    forest = champion.model.candidate_oof_["forest"]
    # the forest's own out-of-fold probabilities (logistic of its log-odds), measured as
    # fit_risk_model measures them
    np.testing.assert_allclose(oof, 1 / (1 + np.exp(-forest)))
    assert reused.metrics["roc_auc"] == pytest.approx(roc_auc_score(y, oof))
    assert reused.metrics["accuracy"] == pytest.approx(np.mean((oof >= 0.5) == y))
    assert reused.metrics["model"] == refit.metrics["model"] == "RandomForestClassifier"
    # the same forest on other folds: the two honest AUCs agree closely
    assert abs(reused.metrics["roc_auc"] - refit.metrics["roc_auc"]) < 0.05
    assert np.all(reused.scores[target.in_default] == 1.0)


def test_no_baseline_from_a_champion_without_the_forest(loans):
    features = LoanFeatures().fit_transform(loans)
    target = resolve_target(loans)
    champion = fit_champion_model(features, target)
    champion.model.candidate_oof_.pop("forest")
    assert baseline_from_champion(champion, target) is None
