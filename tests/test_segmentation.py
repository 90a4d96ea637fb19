"""K-Means risk profiles named by observed risk, stable under reseeding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from loanrecovery.features import LoanFeatures
from loanrecovery.segmentation import (
    PROFILE_FEATURES,
    SEGMENT_LABELS,
    RiskSegmenter,
    segment_profile,
)


@pytest.fixture
def profile_frame(loan_factory):
    loans = loan_factory(1500, seed=3)
    features = LoanFeatures().fit_transform(loans)[list(PROFILE_FEATURES)]
    return features, loans["Default_Next_6M"].to_numpy(dtype=float)


def test_labels_follow_observed_risk(profile_frame):
    X, y = profile_frame
    segmenter = RiskSegmenter().fit(X, y)
    rates = pd.Series(y).groupby(segmenter.labels_).mean()
    ordered = [rates[label] for label in SEGMENT_LABELS]
    assert ordered == sorted(ordered)
    assert set(segmenter.predict(X)) == set(SEGMENT_LABELS)


def test_stable_under_reseeding(profile_frame):
    X, y = profile_frame
    runs = [RiskSegmenter(random_state=seed).fit(X, y).labels_ for seed in (0, 1, 2)]
    for other in runs[1:]:
        assert adjusted_rand_score(runs[0], other) > 0.9
        assert (runs[0] == other).mean() > 0.95


def test_predict_names_missing_columns(profile_frame):
    X, y = profile_frame
    segmenter = RiskSegmenter().fit(X, y)
    with pytest.raises(ValueError, match="missing"):
        segmenter.predict(X.drop(columns="Days_Past_Due"))


def test_bad_parameter_message(profile_frame):
    X, y = profile_frame
    with pytest.raises(ValueError, match="'n_segments' parameter of RiskSegmenter"):
        RiskSegmenter(n_segments=0).fit(X, y)


def test_profile_table(profile_frame):
    X, y = profile_frame
    segments = RiskSegmenter().fit_predict(X, y)
    table = segment_profile(X, segments, y)
    assert list(table.index) == list(SEGMENT_LABELS)
    assert table["Loans"].sum() == len(X)
    assert np.isclose(table["Share"].sum(), 1.0)
