"""`evaluate`: the champion and the original forest on any loan table, honestly validated.

With folds, every candidate and the baseline forest are fit on the same stratified folds; the
champion is the candidate (or blend) with the best out-of-fold AUC, its calibrator is chosen
on the out-of-fold scores, and the reported PDs are cross-fitted (no row's PD comes from a
calibrator that saw it). With a time column, the champion is chosen and calibrated on the
earlier part only (inner folds) and every metric is measured on the later part.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from loanrecovery.modeling.calibration import ScoreCalibrator, cross_fitted_pd
from loanrecovery.modeling.candidates import BaselineForest
from loanrecovery.modeling.champion import (
    ChampionClassifier,
    candidate_estimators,
    choose_champion,
    combine,
)
from loanrecovery.modeling.forest import ORIGINAL_FOREST
from loanrecovery.modeling.metrics import (
    cross_fitted_flags,
    f1_threshold,
    ks_statistic,
    pd_metrics,
)
from loanrecovery.modeling.table import PreparedTable
from loanrecovery.modeling.validation import (
    Splits,
    cross_fit,
    out_of_time_split,
    stratified_splits,
)

__all__ = ["EvaluationResult", "evaluate_table", "fairness_table", "METRIC_KEYS"]

logger = logging.getLogger(__name__)

#: Metric keys reported for the champion (top level of the JSON) and for the baseline.
METRIC_KEYS = (
    "auc", "gini", "ks", "brier", "log_loss", "ece",
    "accuracy", "precision", "recall", "f1", "threshold",
)  # fmt: skip
_MIN_GROUP = 30
#: The original write-up's forest as the JSON names it.
_ORIGINAL_FOREST_TEXT = (
    "RandomForestClassifier(" + ", ".join(f"{k}={v!r}" for k, v in ORIGINAL_FOREST.items()) + ")"
)
#: Folds of the earlier part on which the forest's out-of-time cut-off is chosen.
BASELINE_THRESHOLD_FOLDS = 3


@dataclass
class EvaluationResult:
    """What `evaluate` found; :meth:`to_json` gives the documented JSON object."""

    metrics: dict[str, Any]
    baseline: dict[str, Any]
    champion: str
    validation: str
    n_rows: int
    n_excluded: int
    positive_rate: float
    seconds: float
    calibration: str
    candidates_auc: dict[str, float]
    excluded_columns: dict[str, str]
    leaks: dict[str, float]
    target: dict[str, Any]
    features: list[str]
    fairness: pd.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``--json``: champion metrics at the top, ``baseline`` beside."""
        out: dict[str, Any] = {key: self.metrics[key] for key in METRIC_KEYS}
        out["threshold_rule"] = self.metrics.get("threshold_rule")
        out.update(
            {
                "n_rows": self.n_rows,
                "n_excluded": self.n_excluded,
                "positive_rate": self.positive_rate,
                "validation": self.validation,
                "champion": self.champion,
                "seconds": round(self.seconds, 2),
                "baseline": {key: self.baseline[key] for key in METRIC_KEYS}
                | {"model": _ORIGINAL_FOREST_TEXT},
                "calibration": self.calibration,
                "candidates_auc": self.candidates_auc,
                "excluded_columns": self.excluded_columns,
                "leaks": self.leaks,
                "target": self.target,
                "features": self.features,
            }
        )
        if self.fairness is not None:
            out["fairness"] = self.fairness.to_dict(orient="records")
        return out


def fairness_table(
    protected: pd.DataFrame, y: np.ndarray, pd_: np.ndarray, threshold: float
) -> pd.DataFrame | None:
    """AUC, flag rate, mean PD and observed bad rate per group of each protected column.

    Groups smaller than 30 rows are pooled as ``(other)``.
    """
    if protected.shape[1] == 0:
        return None
    rows = []
    flagged = pd_ >= threshold
    for column in protected.columns:
        groups = protected[column].astype(str).to_numpy()
        counts = pd.Series(groups).value_counts()
        small = counts.index[counts < _MIN_GROUP]
        groups = np.where(np.isin(groups, small), "(other)", groups)
        for group in sorted(np.unique(groups)):
            mask = groups == group
            both = np.unique(y[mask]).size == 2
            rows.append(
                {
                    "column": str(column),
                    "group": str(group),
                    "n": int(mask.sum()),
                    "bad_rate": float(y[mask].mean()),
                    "mean_pd": float(pd_[mask].mean()),
                    "flag_rate": float(flagged[mask].mean()),
                    "auc": float(roc_auc_score(y[mask], pd_[mask])) if both else None,
                }
            )
    return pd.DataFrame(rows)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=float)


@dataclass
class _Scored:
    """Out-of-sample PDs of the champion and the baseline, and how their cut-offs were set."""

    pd_: np.ndarray
    ranking: np.ndarray
    baseline: np.ndarray
    tested: np.ndarray
    champion: str
    aucs: dict[str, float]
    method: str
    threshold: float | None = None
    baseline_threshold: float | None = None
    flags: np.ndarray | None = None
    baseline_flags: np.ndarray | None = None


def _by_folds(
    prepared: PreparedTable,
    splits: Splits,
    candidates: tuple[str, ...],
    n_jobs: int,
    random_state: int,
) -> _Scored:
    X, y = prepared.X, prepared.y
    estimators = candidate_estimators(candidates, n_jobs=n_jobs, random_state=random_state)
    estimators_all = dict(
        estimators, baseline=BaselineForest(n_jobs=n_jobs, random_state=random_state)
    )
    oof = cross_fit(estimators_all, X, y, splits)
    baseline_score = oof.pop("baseline")
    name, weights, aucs = choose_champion(oof, y)
    score = combine(oof, weights)
    calibrator = ScoreCalibrator("auto", random_state=random_state).fit(score, y)
    pd_ = cross_fitted_pd(score, y, calibrator.method_, random_state=random_state)
    # The deployed model ranks loans by ONE calibrator applied to its score. Cross-fitting
    # the calibrator (right for Brier, log loss and ECE) applies five slightly different
    # curves and so shuffles loans between folds; ranking metrics therefore use the single
    # calibrator on the out-of-fold scores. A monotone map cannot reorder loans (isotonic
    # steps can only tie them), so this AUC is never above that of the raw out-of-fold score.
    ranking = calibrator.predict(score)
    baseline = _sigmoid(baseline_score)
    return _Scored(
        pd_=pd_,
        ranking=ranking,
        baseline=baseline,
        tested=np.ones(len(y), dtype=bool),
        champion=name,
        aucs=aucs,
        method=calibrator.method_,
        flags=cross_fitted_flags(y, pd_, splits.pairs),
        baseline_flags=cross_fitted_flags(y, baseline, splits.pairs),
    )


def _by_time(
    prepared: PreparedTable,
    splits: Splits,
    candidates: tuple[str, ...],
    cv: int,
    n_jobs: int,
    random_state: int,
) -> _Scored:
    X, y = prepared.X, prepared.y
    ((train, test),) = splits.pairs
    champion = ChampionClassifier(
        candidates=candidates, cv=cv, n_jobs=n_jobs, random_state=random_state
    ).fit(X.iloc[train], y[train])
    baseline = BaselineForest(n_jobs=n_jobs, random_state=random_state).fit(X.iloc[train], y[train])
    pd_ = np.full(len(y), np.nan)
    base = np.full(len(y), np.nan)
    pd_[test] = champion.predict_proba(X.iloc[test])[:, 1]
    base[test] = baseline.predict_proba(X.iloc[test])[:, 1]
    tested = np.zeros(len(y), dtype=bool)
    tested[test] = True
    aucs = {f"{k} (inner folds of the earlier part)": v for k, v in champion.cv_auc_.items()}
    # The cut-offs of the threshold metrics are chosen on the earlier part only (the
    # champion's cross-fitted PDs there, the forest's out-of-fold probabilities on
    # BASELINE_THRESHOLD_FOLDS folds of it), never on the test months they are scored on.
    # (The forest's out-of-bag probabilities are no substitute: on small tables they rank
    # loans backwards, e.g. AUC 0.08 where its out-of-fold AUC is 0.69.)
    train_pd = np.asarray(champion.oof_pd_, dtype=float)
    known = np.isfinite(train_pd)
    inner = stratified_splits(y[train], BASELINE_THRESHOLD_FOLDS, random_state)
    forest_oof = cross_fit(
        {"baseline": BaselineForest(n_jobs=n_jobs, random_state=random_state)},
        X.iloc[train],
        y[train],
        inner,
    )["baseline"]
    forest_pd = _sigmoid(forest_oof)
    forest_known = np.isfinite(forest_pd)
    return _Scored(
        pd_=pd_,
        ranking=pd_,
        baseline=base,
        tested=tested,
        champion=champion.champion_,
        aucs=aucs,
        method=champion.calibrator_.method_,
        threshold=f1_threshold(y[train][known], train_pd[known]),
        baseline_threshold=f1_threshold(y[train][forest_known], forest_pd[forest_known]),
    )


def _subset(flags: np.ndarray | None, tested: np.ndarray) -> np.ndarray | None:
    return None if flags is None else flags[tested]


def evaluate_table(
    prepared: PreparedTable,
    *,
    folds: int = 5,
    candidates: tuple[str, ...] = ("gbm", "scorecard"),
    n_jobs: int = 2,
    random_state: int = 42,
    time_column: str | None = None,
) -> EvaluationResult:
    """Evaluate the champion and the baseline forest on a prepared table.

    Parameters
    ----------
    prepared : PreparedTable
        From :func:`loanrecovery.modeling.table.prepare_table`.
    folds : int, default=5
        Cross-validation folds (also the inner folds of an out-of-time evaluation).
    candidates : tuple of str
        Candidate models (see :class:`ChampionClassifier`).
    n_jobs : int, default=2
    random_state : int, default=42
    time_column : str, optional
        Name of ``prepared.time`` for messages; with ``prepared.time`` set, the evaluation is
        out-of-time.
    """
    start = time.perf_counter()
    y = prepared.y
    if prepared.time is not None:
        splits = out_of_time_split(prepared.time, y, column=time_column or "time")
        result = _by_time(prepared, splits, candidates, folds, n_jobs, random_state)
    else:
        splits = stratified_splits(y, folds, random_state)
        result = _by_folds(prepared, splits, candidates, n_jobs, random_state)
    tested = result.tested
    metrics = pd_metrics(
        y[tested], result.pd_[tested], result.threshold, _subset(result.flags, tested)
    )
    baseline = pd_metrics(
        y[tested],
        result.baseline[tested],
        result.baseline_threshold,
        _subset(result.baseline_flags, tested),
    )
    if result.threshold is not None:
        metrics["threshold_rule"] = "maximises F1 on the earlier part's out-of-fold PDs"
        baseline["threshold_rule"] = (
            "maximises F1 on the earlier part's out-of-fold probabilities "
            f"({BASELINE_THRESHOLD_FOLDS} folds)"
        )
    auc = float(roc_auc_score(y[tested], result.ranking[tested]))
    metrics.update(auc=auc, gini=2 * auc - 1, ks=ks_statistic(y[tested], result.ranking[tested]))
    fairness = None
    if prepared.protected.shape[1]:
        fairness = fairness_table(
            prepared.protected.loc[tested], y[tested], result.pd_[tested], metrics["threshold"]
        )
    target = prepared.target
    return EvaluationResult(
        metrics=metrics,
        baseline=baseline,
        champion=result.champion,
        validation=splits.description,
        n_rows=int(len(y)),
        n_excluded=int(prepared.n_excluded),
        positive_rate=float(y.mean()),
        seconds=time.perf_counter() - start,
        calibration=f"{result.method}, chosen by cross-fitted log loss on out-of-fold scores",
        candidates_auc=result.aucs,
        excluded_columns=dict(prepared.excluded),
        leaks=dict(prepared.leaks),
        target={
            "column": target.column,
            "positive": target.positive,
            "negative": target.negative,
            "n_missing": target.n_missing,
            "n_other": target.n_other,
        },
        features=[str(c) for c in prepared.X.columns],
        fairness=fairness,
    )
