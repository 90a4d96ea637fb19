"""The champion: candidates compared out-of-fold, the best kept, its PD calibrated.

:class:`ChampionClassifier` cross-fits every candidate (LightGBM, a logistic scorecard and the
original write-up's forest by default), also tries blends of each with the scorecard (weighted
sums of their log-odds), keeps the one with the highest out-of-fold AUC, calibrates its score
on the out-of-fold scores, and refits the kept candidate(s) on all rows. Every candidate is
scored on folds it was not fitted on, and every candidate is among the options compared, so
the champion is never worse out of fold than any candidate it was chosen over; the figure of
the choice itself is measured nested (each fold scored by the option chosen on the other
folds), since the best of several out-of-fold figures flatters the winner. Its reason codes
come from contributions that add up to the champion's log-odds score.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import roc_auc_score
from sklearn.utils.validation import check_is_fitted

from loanrecovery.modeling.calibration import ScoreCalibrator, cross_fitted_pd
from loanrecovery.modeling.candidates import (
    BaselineForest,
    BinaryNanTags,
    GBMScorer,
    ScorecardModel,
    check_binary_target,
)
from loanrecovery.modeling.encoding import fitted_frame, validate_xy
from loanrecovery.modeling.reason_text import fit_reference
from loanrecovery.modeling.reasons import reason_codes
from loanrecovery.modeling.validation import Splits, cross_fit, stratified_splits

__all__ = [
    "ChampionClassifier",
    "candidate_estimators",
    "choose_champion",
    "nested_selection_auc",
    "BLEND_WEIGHTS",
    "DEFAULT_CANDIDATES",
]

logger = logging.getLogger(__name__)

#: Weights of the GBM in the blends tried (the scorecard gets the rest).
BLEND_WEIGHTS = (0.2, 0.35, 0.5, 0.65, 0.8)
#: The candidates compared by default: the champion must beat the original forest too.
DEFAULT_CANDIDATES = ("gbm", "scorecard", "forest")


def candidate_estimators(
    names: tuple[str, ...],
    *,
    n_jobs: int = 2,
    random_state: int = 42,
    gbm_params: dict[str, Any] | None = None,
) -> dict[str, BaseEstimator]:
    """The unfitted candidate models by name (``gbm``, ``gbm_monotone``, ``scorecard``,
    ``forest``: the original write-up's forest)."""
    extra = dict(gbm_params or {})
    known: dict[str, BaseEstimator] = {
        "gbm": GBMScorer(n_jobs=n_jobs, random_state=random_state, **extra),
        "gbm_monotone": GBMScorer(monotone=True, n_jobs=n_jobs, random_state=random_state, **extra),
        "scorecard": ScorecardModel(random_state=random_state),
        "forest": BaselineForest(n_jobs=n_jobs, random_state=random_state),
    }
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise ValueError(
            f"The 'candidates' parameter must name some of {sorted(known)}. Got {names!r} instead."
        )
    return {name: known[name] for name in names}


def _options(names: list[str]) -> dict[str, dict[str, float]]:
    """Every candidate alone, and blends of each other candidate with the scorecard."""
    options: dict[str, dict[str, float]] = {name: {name: 1.0} for name in names}
    if "scorecard" in names:
        for other in (n for n in names if n != "scorecard"):
            for w in BLEND_WEIGHTS:
                options[f"blend {w:.2f} {other} + {1 - w:.2f} scorecard"] = {
                    other: w,
                    "scorecard": 1 - w,
                }
    return options


def _aucs(
    oof: dict[str, np.ndarray], y: np.ndarray, rows: np.ndarray, options: dict
) -> dict[str, float]:
    return {
        name: float(roc_auc_score(y[rows], combine(oof, w)[rows])) for name, w in options.items()
    }


def _best(aucs: dict[str, float], options: dict[str, dict[str, float]]) -> str:
    """Highest AUC; on a tie (to 6 decimals) the option with fewer models."""
    return max(aucs, key=lambda n: (round(aucs[n], 6), -len(options[n])))


def choose_champion(
    oof: dict[str, np.ndarray], y: np.ndarray
) -> tuple[str, dict[str, float], dict[str, float]]:
    """Pick the candidate or blend with the highest AUC on out-of-fold scores.

    Every candidate alone is one of the options, so the choice's out-of-fold AUC is at least
    that of every candidate.

    Returns
    -------
    name : str
        ``"gbm"``, ``"scorecard"``, ``"forest"``, ... or a blend's name.
    weights : dict
        Candidate -> weight in the champion's log-odds.
    aucs : dict
        Out-of-fold AUC of every candidate and blend tried.
    """
    tested = np.isfinite(next(iter(oof.values())))
    options = _options(list(oof))
    aucs = _aucs(oof, y, tested, options)
    best = _best(aucs, options)
    return best, options[best], aucs


def nested_selection_auc(
    oof: dict[str, np.ndarray], y: np.ndarray, splits: Splits
) -> tuple[float, dict[str, float], list[str]]:
    """The choice itself, measured on folds it was not made on.

    For each fold, the option is chosen on the out-of-fold scores of the *other* folds and
    scored on this fold; fold AUCs are averaged. Every candidate's fold-mean AUC is given
    beside it, on the same folds.

    Returns
    -------
    selection_auc : float
        Mean over folds of the AUC of the option chosen without that fold.
    candidates : dict
        Mean over folds of each candidate's AUC.
    chosen : list of str
        The option chosen for each fold.
    """
    options = _options(list(oof))
    tested = np.isfinite(next(iter(oof.values())))
    fold_aucs, chosen = [], []
    per_candidate: dict[str, list[float]] = {name: [] for name in oof}
    for _, test in splits.pairs:
        here = np.zeros(len(y), dtype=bool)
        here[test] = True
        here &= tested
        others = tested & ~here
        if len(np.unique(y[here])) < 2 or len(np.unique(y[others])) < 2:
            continue
        pick = _best(_aucs(oof, y, others, options), options)
        chosen.append(pick)
        fold_aucs.append(float(roc_auc_score(y[here], combine(oof, options[pick])[here])))
        for name in oof:
            per_candidate[name].append(float(roc_auc_score(y[here], oof[name][here])))
    if not fold_aucs:
        return float("nan"), {name: float("nan") for name in oof}, chosen
    return (
        float(np.mean(fold_aucs)),
        {name: float(np.mean(v)) for name, v in per_candidate.items()},
        chosen,
    )


def combine(scores: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """Weighted sum of the candidates' log-odds."""
    return np.asarray(sum(w * scores[name] for name, w in weights.items()), dtype=float)


class ChampionClassifier(BinaryNanTags, ClassifierMixin, BaseEstimator):
    """Best of the candidate models by out-of-fold AUC, with a calibrated PD.

    Parameters
    ----------
    candidates : tuple of str, default=("gbm", "scorecard", "forest")
        Among ``gbm`` (LightGBM), ``gbm_monotone`` (LightGBM with monotone constraints),
        ``scorecard`` (logistic regression on optimal-bin WoE) and ``forest`` (the original
        write-up's forest). Blends of each with the scorecard are tried too.
    cv : int, default=5
        Folds for choosing the champion and fitting the calibrator.
    calibration : {"auto", "isotonic", "platt"}, default="auto"
    gbm_params : dict, optional
        Parameters of :class:`GBMScorer` other than the defaults (e.g. ``{"max_rounds": 500}``).
    n_jobs : int, default=2
    random_state : int, default=42

    Attributes
    ----------
    champion_ : str
        Name of the chosen candidate or blend.
    weights_ : dict
        Candidate -> weight in the log-odds score.
    models_ : dict
        Fitted candidates (on all rows).
    calibrator_ : ScoreCalibrator
    cv_auc_ : dict
        Out-of-fold AUC of every candidate and blend (the champion's is the highest).
    selection_auc_ : float
        The choice measured nested: each fold scored by the option chosen on the other folds.
    fold_auc_ : dict
        Each candidate's mean AUC over the same folds (to compare with ``selection_auc_``).
    oof_score_ : ndarray
        Out-of-fold log-odds of the champion.
    oof_pd_ : ndarray
        Cross-fitted calibrated PD of every training row (never fit on that row).
    candidate_oof_ : dict
        Candidate -> out-of-fold log-odds of every training row (NaN where untested): the
        original forest's honest evaluation comes from here, without fitting it again.
    expected_value_ : float
        The log-odds score before any feature's contribution.
    reason_reference_ : dict
        Per numeric feature, its direction and training percentiles (for the reasons).
    feature_names_in_ : ndarray of str
    """

    def __init__(
        self,
        candidates: tuple[str, ...] = DEFAULT_CANDIDATES,
        cv: int = 5,
        calibration: str = "auto",
        gbm_params: dict[str, Any] | None = None,
        n_jobs: int = 2,
        random_state: int = 42,
    ) -> None:
        self.candidates = candidates
        self.cv = cv
        self.calibration = calibration
        self.gbm_params = gbm_params
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X: object, y: object, splits: Splits | None = None) -> ChampionClassifier:
        """Compare candidates out-of-fold, keep the best, calibrate it, refit it on all rows.

        Parameters
        ----------
        X : DataFrame
            Features (numeric and ``category`` columns).
        y : array-like
            Binary target; the larger label is the positive ("bad") class.
        splits : Splits, optional
            Folds to use instead of ``cv`` stratified folds.
        """
        frame, y = validate_xy(X, y)
        frame.columns = [str(c) for c in frame.columns]
        self.classes_, y01 = check_binary_target(y, self)
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        estimators = candidate_estimators(
            tuple(self.candidates),
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            gbm_params=self.gbm_params,
        )
        splits = splits or stratified_splits(y01, self.cv, self.random_state)
        oof = cross_fit(estimators, frame, y01, splits)
        self.candidate_oof_ = {name: np.asarray(v, dtype=float) for name, v in oof.items()}
        self.champion_, self.weights_, self.cv_auc_ = choose_champion(oof, y01)
        self.selection_auc_, self.fold_auc_, _ = nested_selection_auc(oof, y01, splits)
        tested = np.isfinite(next(iter(oof.values())))
        self.oof_score_ = combine(oof, self.weights_)
        self.calibrator_ = ScoreCalibrator(self.calibration, random_state=self.random_state)
        self.calibrator_.fit(self.oof_score_[tested], y01[tested])
        self.oof_pd_ = np.full(len(y01), np.nan)
        self.oof_pd_[tested] = cross_fitted_pd(
            self.oof_score_[tested],
            y01[tested],
            self.calibrator_.method_,
            random_state=self.random_state,
        )
        self.models_ = {name: clone(estimators[name]).fit(frame, y01) for name in self.weights_}
        self.reason_reference_ = fit_reference(frame, y01)
        self.expected_value_ = float(
            sum(w * self.models_[n].expected_value_ for n, w in self.weights_.items())
        )
        logger.info(
            "champion %s (out-of-fold AUC %.4f)", self.champion_, self.cv_auc_[self.champion_]
        )
        return self

    def _frame(self, X: object) -> pd.DataFrame:
        return fitted_frame(self, X, fitted="models_", str_columns=True)

    def decision_function(self, X: object) -> np.ndarray:
        """The champion's log-odds score (before calibration)."""
        frame = self._frame(X)
        return combine(
            {n: m.decision_function(frame) for n, m in self.models_.items()}, self.weights_
        )

    def predict_proba(self, X: object) -> np.ndarray:
        """Calibrated PD in the second column."""
        score = self.decision_function(X)
        pd_ = self.calibrator_.predict(score)
        return np.column_stack([1.0 - pd_, pd_])

    def predict(self, X: object) -> np.ndarray:
        """The positive class when the calibrated PD is at least 0.5."""
        flagged = self.predict_proba(X)[:, 1] >= 0.5
        return self.classes_[flagged.astype(int)]

    def contributions(self, X: object) -> np.ndarray:
        """Per row and feature, the move of the log-odds score credited to the feature.

        Each row's contributions plus ``expected_value_`` equal ``decision_function(X)``.
        """
        frame = self._frame(X)
        total = np.zeros((len(frame), self.n_features_in_))
        for name, weight in self.weights_.items():
            total += weight * self.models_[name].contributions(frame)
        return total

    def explain(self, X: object, n_reasons: int = 4) -> pd.DataFrame:
        """The ``n_reasons`` principal reasons of each row's score, in plain words."""
        return self.score_and_explain(X, n_reasons)[1]

    def score_and_explain(self, X: object, n_reasons: int = 4) -> tuple[np.ndarray, pd.DataFrame]:
        """Log-odds score and reasons from one pass through the models (faster than both)."""
        frame = self._frame(X)[list(self.feature_names_in_)]
        score = np.zeros(len(frame))
        total = np.zeros((len(frame), self.n_features_in_))
        for name, weight in self.weights_.items():
            part_score, part = self.models_[name].score_and_contributions(frame)
            score += weight * part_score
            total += weight * part
        reference = getattr(self, "reason_reference_", None)  # absent in older model files
        return score, reason_codes(total, frame, n_reasons, reference)

    @property
    def feature_importances_(self) -> np.ndarray:
        """Weighted importance of each feature (GBM gain; scorecard |coef| x WoE spread)."""
        check_is_fitted(self, "models_")
        total = np.zeros(self.n_features_in_)
        for name, weight in self.weights_.items():
            model = self.models_[name]
            if hasattr(model, "feature_importances_"):
                imp = np.asarray(model.feature_importances_, dtype=float)
            else:  # the scorecard
                imp = np.abs(model.coef_)
            total += weight * (imp / imp.sum() if imp.sum() > 0 else imp)
        return total
