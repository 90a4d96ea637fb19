"""Risk segments of loan-months, with the project's RiskSegmenter.

The segmenter clusters the foundation's profile features; here they are computed from the
loan table *as it stood each month* (:func:`~loanrecovery.early_warning.snapshot.snapshot_rows`)
so that a loan's segment at month ``t`` uses nothing after ``t``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from loanrecovery.early_warning.evaluation import _with_contract_columns
from loanrecovery.features import LoanFeatures
from loanrecovery.segmentation import PROFILE_FEATURES, RiskSegmenter

__all__ = ["PanelSegmenter"]


class PanelSegmenter(BaseEstimator):
    """``Low Risk`` … ``Critical Risk`` segments of snapshot rows.

    Parameters
    ----------
    max_rows : int, default=50_000
        Fit K-Means on a seeded sample of at most this many rows.
    random_state : int, default=42
        Seed.

    Attributes
    ----------
    features_ : LoanFeatures
        Fitted feature transformer.
    segmenter_ : RiskSegmenter
        Fitted segmenter.
    """

    def __init__(self, max_rows: int = 50_000, random_state: int = 42) -> None:
        self.max_rows = max_rows
        self.random_state = random_state

    def _profile(self, snapshots: pd.DataFrame) -> pd.DataFrame:
        X = self.features_.transform(_with_contract_columns(snapshots))
        return X[list(PROFILE_FEATURES)]

    def fit(self, snapshots: pd.DataFrame, outcome: np.ndarray) -> PanelSegmenter:
        """Fit on snapshot rows; segments are named by their observed ``outcome`` rate.

        Parameters
        ----------
        snapshots : DataFrame
            Canonical loan rows as of each loan-month.
        outcome : ndarray
            1 = defaulted during follow-up, 0 otherwise.

        Returns
        -------
        self
        """
        rows = np.arange(len(snapshots))
        if len(rows) > self.max_rows:
            rng = np.random.default_rng(self.random_state)
            rows = np.sort(rng.choice(rows, size=self.max_rows, replace=False))
        sample = _with_contract_columns(snapshots.iloc[rows])
        self.features_ = LoanFeatures().fit(sample)
        self.segmenter_ = RiskSegmenter(random_state=self.random_state, n_init=3).fit(
            self._profile(sample), np.asarray(outcome, dtype=float)[rows]
        )
        return self

    def predict(self, snapshots: pd.DataFrame) -> np.ndarray:
        """Segment name of each row."""
        check_is_fitted(self, "segmenter_")
        return np.asarray(self.segmenter_.predict(self._profile(snapshots)))
