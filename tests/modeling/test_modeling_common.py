"""scikit-learn's estimator checks on the modelling estimators."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from loanrecovery.modeling import (
    BaselineForest,
    ChampionClassifier,
    GBMScorer,
    ScorecardModel,
)

ESTIMATORS = [
    GBMScorer(n_jobs=1, max_rounds=30, early_stopping=5),
    ScorecardModel(),
    BaselineForest(n_estimators=10, n_jobs=1),
    ChampionClassifier(
        candidates=("gbm",), cv=2, n_jobs=1, gbm_params={"max_rounds": 30, "early_stopping": 5}
    ),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check) -> None:  # type: ignore[no-untyped-def]
    check(estimator)
