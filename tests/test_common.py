"""scikit-learn's estimator checks on the foundation's estimators."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from loanrecovery.segmentation import RiskSegmenter

_NAMES_NOT_NUMBERS = (
    "labels are segment names (strings); this generic check compares predictions numerically"
)


@parametrize_with_checks(
    [RiskSegmenter(n_init=2)],
    expected_failed_checks=lambda est: {
        "check_estimators_pickle": _NAMES_NOT_NUMBERS,
        "check_clustering": _NAMES_NOT_NUMBERS,
        "check_methods_sample_order_invariance": _NAMES_NOT_NUMBERS,
        "check_methods_subset_invariance": _NAMES_NOT_NUMBERS,
        "check_fit_idempotent": _NAMES_NOT_NUMBERS,
    },
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
