"""The snapshot default-risk model of ``run``: a leakage-free target, out-of-fold scores and
the original write-up's metrics table.

Target, by what the data holds:

- ``Default_Next_6M`` (the simulator's future outcome: 90+ days past due within the next
  6 months). Loans already 90+ days past due at the snapshot are in default: they are not
  used for training and get a risk score of 1.
- otherwise ``Recovery_Status`` other than "Fully Recovered" (the original 500-row file).

Scores of training loans are out-of-fold (each loan scored by a model that did not see it);
loans without a known target are scored by the model fit on all training loans.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import roc_curve
from sklearn.model_selection import StratifiedKFold

from loanrecovery.delinquency import DEFAULT_DPD, FUTURE_TARGET, closed_loans, loan_states
from loanrecovery.modeling.champion import ChampionClassifier
from loanrecovery.modeling.forest import ORIGINAL_FOREST, baseline_forest
from loanrecovery.modeling.metrics import pd_metrics

__all__ = [
    "RiskTarget",
    "RiskModelResult",
    "resolve_target",
    "fit_risk_model",
    "baseline_from_champion",
    "fit_champion_model",
    # Defined in loanrecovery.delinquency and loanrecovery.modeling.forest; re-exported
    # for the callers that import them from here.
    "FUTURE_TARGET",
    "DEFAULT_DPD",
    "closed_loans",
    "loan_states",
    "ORIGINAL_FOREST",
    "baseline_forest",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RiskTarget:
    """The model target of a loan table.

    Attributes
    ----------
    values : ndarray of float
        1 = bad outcome, 0 = good, NaN = unknown or not modelled.
    in_default : ndarray of bool
        Loans already in default at the snapshot (score 1, not trained on).
    closed : ndarray of bool
        Loans with nothing outstanding and nothing past due (paid off or settled): no
        exposure, so not trained on and scored 0.
    name : str
        Column the target comes from.
    description : str
        The target in words, for the report.
    """

    values: np.ndarray
    in_default: np.ndarray
    closed: np.ndarray
    name: str
    description: str

    @property
    def trainable(self) -> np.ndarray:
        """Rows with a known target that are open and not already in default."""
        return ~np.isnan(self.values) & ~self.in_default & ~self.closed


def resolve_target(loans: pd.DataFrame) -> RiskTarget | None:
    """Find the leakage-free target of ``loans``, or ``None`` when it has none."""
    n = len(loans)
    if FUTURE_TARGET in loans.columns:
        values = pd.to_numeric(loans[FUTURE_TARGET], errors="coerce").to_numpy(dtype=float)
        values[~np.isin(values, [0.0, 1.0])] = np.nan
        in_default, closed = loan_states(loans)
        return RiskTarget(
            values=values,
            in_default=in_default,
            closed=closed,
            name=FUTURE_TARGET,
            description="90+ days past due within the 6 months after the snapshot "
            "(loans already 90+ days past due are in default, and closed loans have no "
            "exposure: neither is modelled)",
        )
    if "Recovery_Status" in loans.columns and loans["Recovery_Status"].notna().any():
        status = loans["Recovery_Status"]
        values = np.where(status.isna(), np.nan, (status != "Fully Recovered").astype(float))
        return RiskTarget(
            values=values.astype(float),
            in_default=np.zeros(n, dtype=bool),
            closed=np.zeros(n, dtype=bool),
            name="Recovery_Status",
            description="Recovery_Status other than 'Fully Recovered' (no time axis: the "
            "outcome is observed at the same time as the features)",
        )
    return None


@dataclass
class RiskModelResult:
    """A fitted risk model with its honest evaluation.

    Attributes
    ----------
    model : estimator
        Fit on every trainable loan.
    scores : ndarray
        Risk score of every loan (out-of-fold for training loans, 1 for loans in default).
    metrics : dict
        accuracy, precision, recall, f1 (threshold 0.5), roc_auc, n_train, positive_rate,
        validation.
    roc : dict
        ``fpr`` and ``tpr`` of the out-of-fold ROC curve.
    importance : Series
        Feature importance, largest first.
    """

    model: Any
    scores: np.ndarray
    metrics: dict[str, Any]
    roc: dict[str, list[float]] = field(default_factory=dict)
    importance: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))


def _classification_metrics(
    y: np.ndarray, score: np.ndarray, threshold: float | None, extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The write-up's metrics table from :func:`loanrecovery.modeling.metrics.pd_metrics`.

    Accuracy, precision, recall and F1 of ``score >= threshold`` (without ``threshold``,
    the cut-off that maximises F1 on these scores), ``threshold``, ``roc_auc`` and the
    ``extra`` keys of ``pd_metrics`` asked for (e.g. ``("brier",)``), in that order.
    """
    table = pd_metrics(y, score, threshold)
    metrics = {key: table[key] for key in ("accuracy", "precision", "recall", "f1", "threshold")}
    metrics["roc_auc"] = table["auc"]
    metrics.update({key: table[key] for key in extra})
    return metrics


def _fixed_scores(target: RiskTarget) -> tuple[np.ndarray, np.ndarray]:
    """Scores of the loans no model scores (1 in default, 0 closed, NaN elsewhere), and
    the mask of loans without a known target (scored by the model fit on all training loans).
    """
    scores = np.where(target.in_default, 1.0, np.where(target.closed, 0.0, np.nan))
    unknown = ~target.trainable & ~target.in_default & ~target.closed
    return scores, unknown


def _sample_counts(y: np.ndarray, target: RiskTarget) -> dict[str, Any]:
    return {
        "n_train": int(len(y)),
        "n_in_default": int(target.in_default.sum()),
        "n_closed": int(target.closed.sum()),
        "positive_rate": float(y.mean()),
    }


def _roc_points(y: np.ndarray, score: np.ndarray) -> dict[str, list[float]]:
    fpr, tpr, _ = roc_curve(y, score)
    return {"fpr": fpr.round(4).tolist(), "tpr": tpr.round(4).tolist()}


def fit_risk_model(
    features: pd.DataFrame,
    target: RiskTarget,
    *,
    estimator: BaseEstimator | None = None,
    folds: int = 5,
    random_state: int = 42,
    threshold: float = 0.5,
) -> RiskModelResult:
    """Fit ``estimator`` (default: the original forest) and score every loan honestly.

    Raises
    ------
    ValueError
        Fewer than two classes among the trainable loans.
    """
    estimator = estimator if estimator is not None else baseline_forest(random_state)
    train = target.trainable
    X, y = features.loc[train], target.values[train].astype(int)
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise ValueError(
            f"the target '{target.name}' has a single class among {len(y)} loans; "
            "a risk model needs both good and bad outcomes"
        )
    n_folds = int(min(folds, counts.min()))
    oof = np.full(len(y), np.nan)
    if n_folds >= 2:
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=random_state)
        for fit_idx, test_idx in splitter.split(X, y):
            fold_model = clone(estimator).fit(X.iloc[fit_idx], y[fit_idx])
            oof[test_idx] = _positive_proba(fold_model, X.iloc[test_idx])
    model = clone(estimator).fit(X, y)
    scores, unknown = _fixed_scores(target)
    if unknown.any():
        scores[unknown] = _positive_proba(model, features.loc[unknown])
    scores[train] = oof if n_folds >= 2 else _positive_proba(model, X)

    metrics = _classification_metrics(y, scores[train], threshold) if n_folds >= 2 else {}
    metrics.update(_sample_counts(y, target))
    metrics.update(
        {
            "validation": f"{n_folds}-fold stratified out-of-fold" if n_folds >= 2 else "none",
            "target": target.description,
            "model": type(estimator).__name__,
        }
    )
    roc = _roc_points(y, scores[train]) if n_folds >= 2 else {}
    importance = pd.Series(
        getattr(model, "feature_importances_", np.zeros(X.shape[1])), index=X.columns
    ).sort_values(ascending=False)
    logger.info("risk model: %s", {k: metrics.get(k) for k in ("roc_auc", "n_train")})
    return RiskModelResult(
        model=model, scores=scores, metrics=metrics, roc=roc, importance=importance
    )


def fit_champion_model(
    features: pd.DataFrame, target: RiskTarget, *, random_state: int = 42
) -> RiskModelResult:
    """Fit the champion (issue 3's :class:`ChampionClassifier`: best of LightGBM, a
    scorecard and their blends by out-of-fold AUC, with a calibrated PD) on the trainable
    loans. Training loans are scored by their cross-fitted out-of-fold PD; accuracy,
    precision, recall and F1 use the threshold that maximises F1 on those PDs.
    """
    train = target.trainable
    X, y = features.loc[train], target.values[train].astype(int)
    model = ChampionClassifier(random_state=random_state).fit(X, y)
    scores, unknown = _fixed_scores(target)
    if unknown.any():
        scores[unknown] = model.predict_proba(features.loc[unknown])[:, 1]
    oof = np.asarray(model.oof_pd_, dtype=float)
    missing = ~np.isfinite(oof)
    if missing.any():
        oof[missing] = model.predict_proba(X.loc[missing])[:, 1]
    scores[train] = oof
    metrics = _classification_metrics(y, oof, None, extra=("brier",))
    metrics.update(_sample_counts(y, target))
    metrics.update(
        {
            "mean_pd": float(oof.mean()),
            "validation": f"{model.cv}-fold stratified out-of-fold (cross-fitted calibration)",
            "threshold_rule": "maximises F1 on the out-of-fold PDs",
            "target": target.description,
            "model": f"Champion ({model.champion_})",
            "candidates_auc": {k: float(v) for k, v in model.cv_auc_.items()},
        }
    )
    importance = pd.Series(model.feature_importances_, index=X.columns).sort_values(ascending=False)
    return RiskModelResult(
        model=model, scores=scores, metrics=metrics, roc=_roc_points(y, oof), importance=importance
    )


def baseline_from_champion(champion: RiskModelResult, target: RiskTarget) -> RiskModelResult | None:
    """The original forest's honest evaluation, read from the champion's cross-fitting.

    The forest is one of the champion's candidates (:data:`~loanrecovery.modeling.champion.
    DEFAULT_CANDIDATES`), cross-fitted on the champion's folds of the same loans, so ``run``
    need not fit it five more times (plus once on all loans) to report it. Scores are its
    out-of-fold probabilities (the logistic of its log-odds); loans without a known target
    keep NaN (no forest is fitted on all loans) and no importance is given.

    Returns None when the champion did not cross-fit the forest on every training loan.
    """
    oof = getattr(champion.model, "candidate_oof_", {}).get("forest")
    train = target.trainable
    if oof is None or len(oof) != int(train.sum()) or not np.isfinite(oof).all():
        return None
    y = target.values[train].astype(int)
    proba = 1.0 / (1.0 + np.exp(-oof))
    scores, _ = _fixed_scores(target)
    scores[train] = proba
    metrics = _classification_metrics(y, proba, 0.5)
    metrics.update(_sample_counts(y, target))
    metrics.update(
        {
            "validation": champion.metrics.get("validation", "out-of-fold"),
            "target": target.description,
            "model": "RandomForestClassifier",
        }
    )
    return RiskModelResult(model=None, scores=scores, metrics=metrics, roc=_roc_points(y, proba))


def _positive_proba(model: ClassifierMixin, X: pd.DataFrame) -> np.ndarray:
    proba = model.predict_proba(X)  # type: ignore[attr-defined]
    return np.asarray(proba)[:, 1]
