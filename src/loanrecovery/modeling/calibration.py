"""From a log-odds score to a probability of default that means what it says.

Two calibrators are compared on out-of-fold scores: Platt scaling (a logistic curve on the
score) and isotonic regression (a monotone step function). The one with the lower
cross-fitted log loss is kept, so that among loans given a PD of 0.2, about 20 % default.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

__all__ = ["ScoreCalibrator", "cross_fitted_pd", "PD_FLOOR"]

#: PDs are kept within [PD_FLOOR, 1 - PD_FLOOR] so that no loan is certain either way.
PD_FLOOR = 1e-4
_METHODS = ("isotonic", "platt")


def _fit_one(method: str, scores: np.ndarray, y: np.ndarray) -> object:
    if method == "isotonic":
        return IsotonicRegression(
            y_min=PD_FLOOR, y_max=1 - PD_FLOOR, out_of_bounds="clip", increasing=True
        ).fit(scores, y)
    return LogisticRegression(C=1e6, max_iter=1000).fit(scores.reshape(-1, 1), y)


def _apply(model: object, scores: np.ndarray) -> np.ndarray:
    if isinstance(model, IsotonicRegression):
        pd_ = model.predict(scores)
    else:
        pd_ = model.predict_proba(scores.reshape(-1, 1))[:, 1]  # type: ignore[attr-defined]
    return np.clip(np.asarray(pd_, dtype=float), PD_FLOOR, 1 - PD_FLOOR)


def cross_fitted_pd(
    scores: np.ndarray, y: np.ndarray, method: str, *, cv: int = 5, random_state: int = 42
) -> np.ndarray:
    """PDs for ``scores`` where each row's calibrator never saw that row."""
    scores = np.asarray(scores, dtype=float)
    out = np.empty(len(scores))
    n_splits = int(max(2, min(cv, np.bincount(y).min())))
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    for fit_idx, test_idx in splitter.split(scores.reshape(-1, 1), y):
        out[test_idx] = _apply(_fit_one(method, scores[fit_idx], y[fit_idx]), scores[test_idx])
    return out


class ScoreCalibrator(BaseEstimator):
    """Map a log-odds score to a calibrated PD (isotonic or Platt, chosen on held-out data).

    Parameters
    ----------
    method : {"auto", "isotonic", "platt"}, default="auto"
        With "auto", both are cross-fitted and the one with the lower log loss is kept.
    cv : int, default=5
    random_state : int, default=42

    Attributes
    ----------
    method_ : str
    cv_log_loss_ : dict
        Cross-fitted log loss of each method compared.
    model_ : IsotonicRegression or LogisticRegression
    """

    def __init__(self, method: str = "auto", cv: int = 5, random_state: int = 42) -> None:
        self.method = method
        self.cv = cv
        self.random_state = random_state

    def fit(self, scores: np.ndarray, y: np.ndarray) -> ScoreCalibrator:
        """Choose and fit the calibrator on (out-of-fold) scores and outcomes."""
        if self.method not in (*_METHODS, "auto"):
            raise ValueError(
                f"The 'method' parameter of ScoreCalibrator must be a str among "
                f"{{'auto', 'isotonic', 'platt'}}. Got {self.method!r} instead."
            )
        scores = np.asarray(scores, dtype=float).ravel()
        y = np.asarray(y).astype(int)
        methods = _METHODS if self.method == "auto" else (self.method,)
        self.cv_log_loss_: dict[str, float] = {}
        if len(methods) > 1:
            for method in methods:
                pd_ = cross_fitted_pd(scores, y, method, cv=self.cv, random_state=self.random_state)
                self.cv_log_loss_[method] = float(log_loss(y, pd_, labels=[0, 1]))
            self.method_ = min(self.cv_log_loss_, key=self.cv_log_loss_.__getitem__)
        else:
            self.method_ = methods[0]
        self.model_ = _fit_one(self.method_, scores, y)
        return self

    def predict(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated PD of each score."""
        check_is_fitted(self, "model_")
        return _apply(self.model_, np.asarray(scores, dtype=float).ravel())
