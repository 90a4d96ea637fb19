"""Ranking, calibration and classification metrics of a PD against observed outcomes."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

__all__ = [
    "ks_statistic",
    "expected_calibration_error",
    "f1_threshold",
    "cross_fitted_flags",
    "pd_metrics",
]


def ks_statistic(y: np.ndarray, score: np.ndarray) -> float:
    """Kolmogorov-Smirnov distance between the score distributions of bad and good loans."""
    fpr, tpr, _ = roc_curve(y, score)
    return float(np.max(tpr - fpr))


def expected_calibration_error(y: np.ndarray, pd_: np.ndarray, n_bins: int = 10) -> float:
    """Mean |predicted PD - observed rate| over equal-count PD bands, weighted by band size."""
    order = np.argsort(pd_, kind="stable")
    total = 0.0
    for band in np.array_split(order, n_bins):
        if band.size:
            total += band.size * abs(float(pd_[band].mean()) - float(y[band].mean()))
    return total / len(y)


def f1_threshold(y: np.ndarray, pd_: np.ndarray) -> float:
    """The PD cut-off that maximises F1 (flag a loan when its PD is at least this)."""
    precision, recall, thresholds = precision_recall_curve(y, pd_)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    best = int(np.argmax(f1[:-1])) if len(thresholds) else 0
    return float(thresholds[best]) if len(thresholds) else 0.5


def cross_fitted_flags(
    y: np.ndarray, pd_: np.ndarray, pairs: list[tuple[np.ndarray, np.ndarray]]
) -> np.ndarray:
    """Flag each row with the F1 cut-off chosen on the other folds' rows, never its own.

    Parameters
    ----------
    y, pd_ : ndarray
        Outcomes and out-of-fold PDs of all rows.
    pairs : list of (fit indices, test indices)
        The folds; every row is in one test part.
    """
    y = np.asarray(y).astype(int)
    pd_ = np.asarray(pd_, dtype=float)
    flags = np.zeros(len(y), dtype=int)
    for fit_idx, test_idx in pairs:
        cut = f1_threshold(y[fit_idx], pd_[fit_idx])
        flags[test_idx] = pd_[test_idx] >= cut
    return flags


def pd_metrics(
    y: np.ndarray,
    pd_: np.ndarray,
    threshold: float | None = None,
    flags: np.ndarray | None = None,
) -> dict[str, Any]:
    """AUC, Gini, KS, Brier, log loss, ECE and the classification metrics at ``threshold``.

    Without ``threshold``, the F1-maximising cut-off of these PDs is reported. Accuracy,
    precision, recall and F1 are computed from ``flags`` when given (e.g. from
    :func:`cross_fitted_flags`, so that no row is flagged by a cut-off chosen on itself),
    otherwise from ``pd_ >= threshold``.
    """
    y = np.asarray(y).astype(int)
    pd_ = np.asarray(pd_, dtype=float)
    auc = float(roc_auc_score(y, pd_))
    how = "given"
    if threshold is None:
        threshold = f1_threshold(y, pd_)
        how = "maximises F1 on these out-of-sample PDs"
    flag = (pd_ >= threshold).astype(int) if flags is None else np.asarray(flags, dtype=int)
    if flags is not None:
        how += (
            "; accuracy, precision, recall and F1 use each fold's cut-off chosen on the other folds"
        )
    clipped = np.clip(pd_, 1e-7, 1 - 1e-7)
    return {
        "auc": auc,
        "gini": 2 * auc - 1,
        "ks": ks_statistic(y, pd_),
        "brier": float(brier_score_loss(y, pd_)),
        "log_loss": float(log_loss(y, clipped, labels=[0, 1])),
        "ece": expected_calibration_error(y, pd_),
        "accuracy": float(accuracy_score(y, flag)),
        "precision": float(precision_score(y, flag, zero_division=0)),
        "recall": float(recall_score(y, flag, zero_division=0)),
        "f1": float(f1_score(y, flag, zero_division=0)),
        "threshold": float(threshold),
        "threshold_rule": how,
    }
