"""The snapshot risk model: leakage-free target, honest out-of-fold scores."""

from __future__ import annotations

import numpy as np
import pytest

from loanrecovery.features import LoanFeatures
from loanrecovery.risk import baseline_forest, fit_risk_model, resolve_target


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


def test_original_forest_spec():
    forest = baseline_forest()
    assert (forest.n_estimators, forest.max_depth, forest.class_weight, forest.random_state) == (
        150,
        8,
        "balanced",
        42,
    )


def test_single_class_is_refused(loans):
    loans = loans.assign(Default_Next_6M=0)
    with pytest.raises(ValueError, match="single class"):
        fit_risk_model(LoanFeatures().fit_transform(loans), resolve_target(loans))
