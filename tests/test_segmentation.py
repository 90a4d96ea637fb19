"""Risk segments: bands of the PD, monotone, separated, named by rank, merged when the data
cannot tell neighbours apart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loanrecovery.features import LoanFeatures
from loanrecovery.segmentation import (
    PROFILE_FEATURES,
    SEGMENT_LABELS,
    SEGMENT_NAMES,
    UNSEGMENTED,
    RiskSegmenter,
    segment_profile,
    separated,
    wilson_interval,
)


def _book(rates: tuple[float, ...], n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """PDs in equal bands of [0, 1) whose true bad rate is ``rates[k]`` in band ``k``."""
    rng = np.random.default_rng(seed)
    pd_ = rng.random(n)
    band = np.minimum((pd_ * len(rates)).astype(int), len(rates) - 1)
    y = (rng.random(n) < np.asarray(rates)[band]).astype(float)
    return pd_, y


def _check_ladder(segmenter: RiskSegmenter, pd_: np.ndarray, y: np.ndarray) -> None:
    """What every fitted segmenter promises, recomputed from its predictions."""
    names = segmenter.predict(pd_)
    assert 1 <= segmenter.n_segments_ <= segmenter.max_segments
    assert segmenter.names_ == SEGMENT_NAMES[segmenter.n_segments_]
    assert set(names) <= set(segmenter.names_)
    rank = {name: k for k, name in enumerate(segmenter.names_)}
    ranks = np.array([rank[s] for s in names])
    # Monotone: a higher PD is never in a lower segment.
    order = np.argsort(pd_, kind="stable")
    assert (np.diff(ranks[order]) >= 0).all()
    counts = np.bincount(ranks, minlength=segmenter.n_segments_)
    bads = np.bincount(ranks, weights=y, minlength=segmenter.n_segments_)
    np.testing.assert_array_equal(counts, segmenter.counts_)
    np.testing.assert_array_equal(bads, segmenter.bads_)
    # Separated: strictly higher bad rate above, 95% intervals not overlapping.
    assert separated(bads, counts).all()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rates=st.lists(st.floats(0.0, 0.9), min_size=1, max_size=6).map(tuple),
    n=st.integers(50, 3000),
    seed=st.integers(0, 2**16),
)
def test_any_book_gives_a_monotone_separated_named_ladder(rates, n, seed):
    pd_, y = _book(rates, n, seed)
    segmenter = RiskSegmenter().fit(pd_, y)
    _check_ladder(segmenter, pd_, y)


@settings(max_examples=8, deadline=None)
@given(max_segments=st.integers(1, 4), seed=st.integers(0, 100))
def test_never_more_segments_than_asked(max_segments, seed):
    pd_, y = _book((0.01, 0.05, 0.15, 0.35, 0.7), 6000, seed)
    segmenter = RiskSegmenter(max_segments=max_segments).fit(pd_, y)
    assert segmenter.n_segments_ <= max_segments
    _check_ladder(segmenter, pd_, y)


def test_clearly_different_bands_give_four_named_segments():
    pd_, y = _book((0.01, 0.08, 0.25, 0.6), 8000, 1)
    segmenter = RiskSegmenter().fit(pd_, y)
    assert segmenter.names_ == SEGMENT_LABELS
    assert segmenter.fully_segmented
    assert "4 risk segments" in segmenter.note_
    # The cut points fall near the true band edges 0.25, 0.5, 0.75.
    np.testing.assert_allclose(segmenter.edges_, [0.25, 0.5, 0.75], atol=0.05)
    assert list(segmenter.predict([0.0, 0.3, 0.6, 0.99])) == list(SEGMENT_LABELS)


def test_bands_with_the_same_bad_rate_are_merged():
    # Two true levels: the binning may cut more bands, but those with the same rate merge.
    pd_, y = _book((0.05, 0.05, 0.3, 0.3), 6000, 2)
    segmenter = RiskSegmenter().fit(pd_, y)
    assert segmenter.n_segments_ == 2
    assert segmenter.names_ == ("Low Risk", "High Risk")
    assert not segmenter.fully_segmented
    assert "only 2 risk segment(s)" in segmenter.note_
    assert "intervals of their observed bad rates overlapped" in segmenter.note_
    np.testing.assert_allclose(segmenter.edges_, [0.5], atol=0.05)


def test_no_signal_gives_one_unsegmented_segment():
    rng = np.random.default_rng(4)
    pd_ = rng.random(3000)
    y = (rng.random(3000) < 0.1).astype(float)  # outcome unrelated to the PD
    segmenter = RiskSegmenter().fit(pd_, y)
    assert segmenter.names_ == (UNSEGMENTED,)
    assert set(segmenter.predict(pd_)) == {UNSEGMENTED}
    assert segmenter.edges_.size == 0


def test_one_class_gives_one_segment():
    segmenter = RiskSegmenter().fit(np.linspace(0, 1, 50), np.zeros(50))
    assert segmenter.names_ == (UNSEGMENTED,)
    assert segmenter.n_bands_ == 1
    assert "only 1 risk segment(s)" in segmenter.note_
    assert "does not rise with the PD" in segmenter.note_


def test_three_segments_keep_the_top_names():
    # A rule naming "High Risk" and "Critical Risk" still means the top of the ladder.
    assert SEGMENT_NAMES[3] == ("Low Risk", "High Risk", "Critical Risk")
    assert SEGMENT_NAMES[2][-1] == "High Risk"
    for k in (2, 3, 4):
        assert SEGMENT_NAMES[k][-1] in {"High Risk", "Critical Risk"}
        assert SEGMENT_NAMES[k][0] == "Low Risk"


def test_wilson_interval_known_values():
    low, high = wilson_interval(np.array([0, 5, 50]), np.array([10, 10, 100]))
    # Published values of the 95% Wilson interval.
    np.testing.assert_allclose(low, [0.0, 0.2366, 0.4038], atol=1e-4)
    np.testing.assert_allclose(high, [0.2775, 0.7634, 0.5962], atol=1e-4)


def test_table_and_describe_agree():
    pd_, y = _book((0.02, 0.2, 0.5), 3000, 5)
    segmenter = RiskSegmenter().fit(pd_, y)
    table = segmenter.table()
    described = segmenter.describe()
    assert list(table.index) == list(segmenter.names_)
    assert [s["loans"] for s in described["segments"]] == table["Loans"].tolist()
    assert (table["95% low"] <= table["Bad rate"]).all()
    assert (table["Bad rate"] <= table["95% high"]).all()
    assert table["Loans"].sum() == len(pd_)
    assert described["note"] == segmenter.note_


@pytest.mark.parametrize(
    ("pd_", "y", "message"),
    [
        ([0.1, np.nan], [0, 1], "finite"),
        ([0.1, 0.2], [0, 2], "0 \\(good\\) or 1"),
        ([0.1, 0.2], [0], "rows"),
        ([], [], "at least one row"),
    ],
)
def test_bad_input_is_refused(pd_, y, message):
    with pytest.raises(ValueError, match=message):
        RiskSegmenter().fit(pd_, y)


def test_bad_parameter_message():
    with pytest.raises(ValueError, match="max_segments must be an int in 1..4"):
        RiskSegmenter(max_segments=5).fit([0.1, 0.2], [0, 1])


def test_predict_before_fit_is_refused():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        RiskSegmenter().predict([0.1])


def test_profile_table(loan_factory):
    loans = loan_factory(600, seed=3)
    X = LoanFeatures().fit_transform(loans)[list(PROFILE_FEATURES)]
    y = loans["Default_Next_6M"].to_numpy(dtype=float)
    pd_, _ = _book((0.1,), len(y), 0)
    segments = np.where(pd_ < 0.5, "Low Risk", "High Risk")
    table = segment_profile(X, segments, y)
    assert list(table.index) == ["Low Risk", "High Risk"]
    assert table["Loans"].sum() == len(X)
    expected = pd.Series(y).groupby(segments).mean()
    np.testing.assert_allclose(
        table["Observed_Bad_Rate"].to_numpy(), expected.reindex(table.index).to_numpy()
    )
