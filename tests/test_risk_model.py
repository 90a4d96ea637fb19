"""The fitted risk stage: its segments are ordered and separated on the built-in book."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loanrecovery.inputs import builtin_book
from loanrecovery.risk import resolve_target
from loanrecovery.risk_model import CLOSED, fit_book_risk
from loanrecovery.segmentation import SEGMENT_LABELS, wilson_interval


def test_segments_of_the_built_in_book_are_ordered_and_separated():
    # Slow on purpose (about 1 minute alone, a few on a busy machine): the promise
    # is about the built-in 10,000-loan book itself, so the champion is fitted on all of it.
    book = builtin_book()
    target = resolve_target(book.loans)
    assert target is not None
    fit = fit_book_risk(book.loans, target, random_state=42)
    assert fit.model.segmenter.names_ == SEGMENT_LABELS
    # Recomputed from the segments the stage gives, not read from the segmenter.
    train = target.trainable
    segments, outcome = fit.segments[train], target.values[train]
    assert CLOSED not in set(segments)
    table = pd.DataFrame({"segment": segments, "bad": outcome}).groupby("segment")["bad"]
    counts = table.size().reindex(SEGMENT_LABELS).to_numpy()
    bads = table.sum().reindex(SEGMENT_LABELS).to_numpy()
    rate = bads / counts
    low, high = wilson_interval(bads, counts)
    assert (np.diff(rate) > 0).all(), rate
    assert (high[:-1] < low[1:]).all(), (low, high)
    # The segment follows the PD: every loan of a higher segment has a higher PD.
    pd_ = fit.risk.scores[train]
    rank = pd.Series(segments).map({s: k for k, s in enumerate(SEGMENT_LABELS)}).to_numpy()
    for k in range(len(SEGMENT_LABELS) - 1):
        assert pd_[rank == k].max() < pd_[rank == k + 1].min()
