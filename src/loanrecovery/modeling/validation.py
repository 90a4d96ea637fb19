"""Honest validation: stratified folds or an out-of-time split, and out-of-fold scores."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import StratifiedKFold

from loanrecovery.exceptions import DataFileError

__all__ = ["Splits", "stratified_splits", "out_of_time_split", "cross_fit"]

logger = logging.getLogger(__name__)

#: Share of the rows (earliest first) used for training in an out-of-time split.
TRAIN_SHARE = 0.8


@dataclass
class Splits:
    """Train/test index pairs and a sentence saying what they are."""

    pairs: list[tuple[np.ndarray, np.ndarray]]
    description: str

    @property
    def tested(self) -> np.ndarray:
        """Mask of rows that are in some test part."""
        n = max(int(max(t.max(), f.max())) for f, t in self.pairs) + 1
        mask = np.zeros(n, dtype=bool)
        for _, test in self.pairs:
            mask[test] = True
        return mask


def stratified_splits(y: np.ndarray, folds: int = 5, random_state: int = 42) -> Splits:
    """Stratified, shuffled K folds (fewer when the minority class is too small)."""
    n_minor = int(np.bincount(y, minlength=2).min())
    n_splits = int(min(folds, n_minor))
    if n_splits < 2:
        raise DataFileError(
            "data", f"the target has only {n_minor} row(s) of one class; at least 2 are needed"
        )
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    pairs = [(a, b) for a, b in splitter.split(np.zeros(len(y)), y)]
    return Splits(pairs, f"{n_splits}-fold stratified cross-validation (out-of-fold)")


def out_of_time_split(
    time: pd.Series, y: np.ndarray, *, train_share: float = TRAIN_SHARE, column: str = "time"
) -> Splits:
    """Train on the earliest ``train_share`` of rows (by time), test on the later ones."""
    values = time.to_numpy(dtype=float)
    known = np.isfinite(values)
    cutoff = float(np.quantile(values[known], train_share))
    train = np.flatnonzero(known & (values < cutoff))
    test = np.flatnonzero(known & (values >= cutoff))
    for part, name in ((train, "earlier"), (test, "later")):
        if part.size == 0 or np.unique(y[part]).size < 2:
            raise DataFileError(
                "data",
                f"the {name} part of the out-of-time split at {column} = {cutoff:g} does not "
                "hold both classes; choose another --time-col or use folds",
                column=column,
            )
    description = (
        f"out-of-time: trained on {train.size} rows with {column} < {cutoff:g}, tested on "
        f"{test.size} rows with {column} >= {cutoff:g}"
    )
    if (~known).any():
        description += f"; {int((~known).sum())} rows without a time left out"
    return Splits([(train, test)], description)


def cross_fit(
    estimators: Mapping[str, BaseEstimator], X: pd.DataFrame, y: np.ndarray, splits: Splits
) -> dict[str, np.ndarray]:
    """Out-of-fold log-odds (``decision_function``) of each estimator; NaN where untested."""
    out = {name: np.full(len(y), np.nan) for name in estimators}
    for k, (fit_idx, test_idx) in enumerate(splits.pairs):
        X_fit, X_test = X.iloc[fit_idx], X.iloc[test_idx]
        for name, estimator in estimators.items():
            start = time.perf_counter()
            model = clone(estimator).fit(X_fit, y[fit_idx])
            out[name][test_idx] = model.decision_function(X_test)
            logger.info(
                "fold %d/%d: %s in %.1f s",
                k + 1,
                len(splits.pairs),
                name,
                time.perf_counter() - start,
            )
    return out
