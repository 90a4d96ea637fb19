"""Candidates, champion, calibration and reason codes on simulated loans."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from tests.modeling.conftest import make_table

from loanrecovery.modeling import BaselineForest, ChampionClassifier, GBMScorer, ScorecardModel
from loanrecovery.modeling.table import prepare_table
from loanrecovery.risk import baseline_forest

TARGET = "TARGET_LABEL_BAD=1"


@pytest.fixture(scope="module")
def prepared(loan_table: pd.DataFrame):  # type: ignore[no-untyped-def]
    return prepare_table(loan_table, target=TARGET)


@pytest.fixture(scope="module")
def champion(prepared) -> ChampionClassifier:  # type: ignore[no-untyped-def]
    return ChampionClassifier(cv=3, n_jobs=1).fit(prepared.X, prepared.y)


@pytest.mark.parametrize("model", [GBMScorer(n_jobs=1), ScorecardModel()])
def test_contributions_add_up_to_the_score(model, prepared) -> None:  # type: ignore[no-untyped-def]
    model.fit(prepared.X, prepared.y)
    contributions = model.contributions(prepared.X)
    total = contributions.sum(axis=1) + model.expected_value_
    np.testing.assert_allclose(total, model.decision_function(prepared.X), atol=1e-8)


def test_champion_contributions_add_up(champion, prepared) -> None:  # type: ignore[no-untyped-def]
    total = champion.contributions(prepared.X).sum(axis=1) + champion.expected_value_
    np.testing.assert_allclose(total, champion.decision_function(prepared.X), atol=1e-8)
    score, reasons = champion.score_and_explain(prepared.X, n_reasons=2)
    np.testing.assert_allclose(score, champion.decision_function(prepared.X), atol=1e-8)
    assert reasons.shape == (len(prepared.X), 2)


def test_champion_ranks_risk_and_beats_chance(champion, prepared) -> None:  # type: ignore[no-untyped-def]
    assert champion.champion_ in champion.cv_auc_
    oof_auc = roc_auc_score(prepared.y, champion.oof_pd_)
    assert oof_auc == pytest.approx(champion.cv_auc_[champion.champion_], abs=0.02)
    assert oof_auc > 0.65


def test_calibration_on_held_out_loans(champion) -> None:  # type: ignore[no-untyped-def]
    """Mean PD per PD band is close to the observed bad rate on loans never seen."""
    held_out = prepare_table(make_table(n=6000, seed=11), target=TARGET)
    pd_ = champion.predict_proba(held_out.X)[:, 1]
    bands = pd.qcut(pd_, 4, labels=False, duplicates="drop")
    frame = pd.DataFrame({"band": bands, "pd": pd_, "bad": held_out.y})
    per_band = frame.groupby("band").mean()
    # Binomial noise of a band of 1500 loans is about 0.012; allow four of it.
    assert np.all(np.abs(per_band["pd"] - per_band["bad"]) < 0.05)
    assert abs(pd_.mean() - held_out.y.mean()) < 0.02


def test_reasons_in_plain_words(champion, prepared) -> None:  # type: ignore[no-untyped-def]
    reasons = champion.explain(prepared.X.head(50), n_reasons=4)
    assert list(reasons.columns) == ["reason_1", "reason_2", "reason_3", "reason_4"]
    contributions = champion.contributions(prepared.X.head(50))
    riskiest = int(np.argmax(contributions.sum(axis=1)))
    first = reasons.iloc[riskiest]["reason_1"]
    assert first and not first.endswith("(lowers risk)")
    assert "_" not in " ".join(reasons.to_numpy().ravel())


def test_days_past_due_reason_quotes_the_value(champion, prepared) -> None:  # type: ignore[no-untyped-def]
    row = prepared.X.head(1).copy()
    row["Days_Past_Due"] = 95.0
    text = " | ".join(champion.explain(row, n_reasons=4).iloc[0])
    assert "95 days past due" in text
    assert "95 days past due (lowers risk)" not in text


def test_same_input_same_output(prepared) -> None:  # type: ignore[no-untyped-def]
    a = GBMScorer(n_jobs=1).fit(prepared.X, prepared.y).decision_function(prepared.X)
    b = GBMScorer(n_jobs=1).fit(prepared.X, prepared.y).decision_function(prepared.X)
    np.testing.assert_array_equal(a, b)


def test_baseline_forest_is_the_original(prepared) -> None:  # type: ignore[no-untyped-def]
    forest = BaselineForest(n_jobs=1).fit(prepared.X, prepared.y)
    params = forest.forest_.get_params()
    assert (params["n_estimators"], params["max_depth"], params["class_weight"]) == (
        150,
        8,
        "balanced",
    )
    assert forest.predict_proba(prepared.X).shape == (len(prepared.y), 2)
    # the one factory of the original forest, with the wrapper's seed, size and threads
    assert params == baseline_forest(n_jobs=1).get_params()
    small = BaselineForest(n_estimators=5, n_jobs=1, random_state=3).fit(prepared.X, prepared.y)
    assert small.forest_.get_params() == baseline_forest(3, n_estimators=5, n_jobs=1).get_params()
    assert len(small.forest_.estimators_) == 5


def test_missing_feature_is_named(champion, prepared) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="Grade"):
        champion.predict_proba(prepared.X.drop(columns=["Grade"]))
