"""Which early-warning model scores the book: gradient boosting, the sequence model, or a blend.

Candidates
----------
``gbm``
    :class:`~loanrecovery.early_warning.horizon.HorizonClassifiers` (today's model).
``sequence``
    :class:`~loanrecovery.early_warning.sequence.SequenceClassifier` (needs the ``deep``
    extra).
``blend``
    A logit blend ``sigmoid(w * logit(p_sequence) + (1 - w) * logit(p_gbm))`` per horizon,
    whose weight ``w`` is chosen on validation months only.
``auto`` (the default)
    Picks by out-of-time validation inside the training months: both models are fitted
    again with a cut-off :data:`VALIDATION_MONTHS` earlier (the same
    :func:`~loanrecovery.early_warning.evaluation.choose_cutoff` rule) and scored on the
    months between. A candidate other than ``gbm`` is chosen only when its validation AUC
    beats the GBM's by at least :data:`AUC_BAR` at *every* horizon (the bar of issue 15);
    otherwise ``gbm``. Without PyTorch ``auto`` is ``gbm`` and says so.

Every candidate's AUC, recall and precision at the alert budget, Brier score and expected
calibration error (ECE) are reported per horizon, on the validation months and, once the
sequence model has been fitted at the real cut-off, on the test months.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from loanrecovery.early_warning.evaluation import budget_metrics, choose_cutoff
from loanrecovery.early_warning.horizon import HorizonClassifiers
from loanrecovery.early_warning.sequence import (
    SequenceClassifier,
    require_torch,
    torch_available,
)
from loanrecovery.early_warning.targets import make_targets
from loanrecovery.early_warning.watchlist_model import blend_logits
from loanrecovery.exceptions import LoanRecoveryError

__all__ = [
    "AUC_BAR",
    "MODEL_CHOICES",
    "ModelChoice",
    "ModelChoiceError",
    "calibration",
    "choose_model",
    "refit_sequence",
]

logger = logging.getLogger(__name__)

#: The values of ``--model``.
MODEL_CHOICES: tuple[str, ...] = ("gbm", "sequence", "blend", "auto")
#: Validation AUC gain over the GBM needed at every horizon for ``auto`` to leave the GBM.
AUC_BAR = 0.003
#: Length of the validation window inside the training months.
VALIDATION_MONTHS = 9
#: Horizon of the sequence model's extra (auxiliary) head.
_AUX_HORIZON = 12
_WEIGHTS = np.round(np.linspace(0.0, 1.0, 21), 2)


class ModelChoiceError(LoanRecoveryError, ValueError):
    """A model choice that cannot be honoured (unknown name, too short a panel)."""


def calibration(p: np.ndarray, y: np.ndarray, n_bins: int = 10) -> dict[str, float]:
    """Brier score and expected calibration error over equal-count bins of ``p``.

    Parameters
    ----------
    p, y : ndarray
        Probabilities and 0/1 outcomes.
    n_bins : int
        Number of bins (by rank of ``p``).

    Returns
    -------
    dict
        ``brier`` and ``ece`` (the row-weighted mean of ``|mean p - mean y|`` per bin).
    """
    if len(p) == 0:
        return {"brier": float("nan"), "ece": float("nan")}
    order = np.argsort(p, kind="stable")
    bins = np.array_split(order, min(n_bins, len(p)))
    ece = sum(len(b) * abs(float(p[b].mean()) - float(y[b].mean())) for b in bins) / len(p)
    return {"brier": float(np.mean((p - y) ** 2)), "ece": float(ece)}


def _blend(p_gbm: np.ndarray, p_seq: np.ndarray, w: float) -> np.ndarray:
    return blend_logits(p_gbm, p_seq, w)


@dataclass(frozen=True)
class _Rows:
    """Labelled rows of one window: positions in the panel, targets, months, ids."""

    rows: np.ndarray
    targets: pd.DataFrame
    month: np.ndarray
    ids: np.ndarray

    def scores(
        self,
        probs: dict[str, pd.DataFrame],
        horizons: tuple[int, ...],
        budget: float,
        weights: dict[int, float],
    ) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {name: {} for name in (*probs, "blend")}
        for h in horizons:
            y_all = self.targets[f"Y_{h}"].to_numpy()
            k = ~np.isnan(y_all)
            y = y_all[k]
            cand = {name: p[f"P_{h}"].to_numpy()[k] for name, p in probs.items()}
            if "sequence" in cand and h in weights:  # no weights without a validation window
                cand["blend"] = _blend(cand["gbm"], cand["sequence"], weights[h])
            for name, p in cand.items():
                m = budget_metrics(p, y, self.month[k], self.ids[k], budget)
                out[name][str(h)] = _rounded({**m, **calibration(p, y)})
        return {name: v for name, v in out.items() if v}


def _rounded(m: dict[str, float]) -> dict[str, float | None]:
    return {k: None if np.isnan(v) else round(float(v), 4) for k, v in m.items()}


@dataclass
class ModelChoice:
    """The outcome of :func:`choose_model`.

    Attributes
    ----------
    requested, chosen : str
        The ``--model`` asked for and the candidate that scores the book.
    reason : str
        Why ``chosen`` (plain words).
    scorer : object
        Has ``predict_proba_horizons(X)`` for rows of the feature table (by index) and
        ``contributions`` (the GBM's, for the watchlist's reasons).
    blend_weights : dict of str to float
        Weight of the sequence model in the blend per horizon (validation months).
    validation, test : dict
        Candidate -> horizon -> metrics (AUC, recall and precision at the budget, Brier,
        ECE); empty when not computed.
    seconds : dict
        Wall-clock seconds of each step.
    sequence : SequenceClassifier or None
        The sequence model fitted at the cut-off, when ``chosen`` is ``sequence`` or
        ``blend``.
    """

    requested: str
    chosen: str
    reason: str
    scorer: Any
    blend_weights: dict[str, float] = field(default_factory=dict)
    validation: dict[str, Any] = field(default_factory=dict)
    test: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    sequence: SequenceClassifier | None = None

    def summary(self) -> dict[str, Any]:
        """The JSON block ``model_choice`` of the early-warning metrics."""
        return {
            "requested": self.requested,
            "chosen": self.chosen,
            "reason": self.reason,
            "auc_bar": AUC_BAR,
            "blend_weights": self.blend_weights,
            "validation": self.validation,
            "test": self.test,
            "seconds": self.seconds,
        }


class _RowScorer:
    """Serves precomputed probabilities of feature-table rows; reasons come from the GBM."""

    def __init__(self, probs: pd.DataFrame, gbm: HorizonClassifiers) -> None:
        self.probs = probs
        self.gbm = gbm

    def predict_proba_horizons(self, X: pd.DataFrame) -> pd.DataFrame:
        missing = X.index.difference(self.probs.index)
        if len(missing):
            raise ValueError(f"{len(missing)} rows were not scored by the chosen model")
        return self.probs.loc[X.index]

    def contributions(self, X: pd.DataFrame, horizon: int) -> pd.DataFrame:
        return self.gbm.contributions(X, horizon)


def _sequence(random_state: int, horizons: tuple[int, ...], params: dict[str, Any]) -> Any:
    extra = (_AUX_HORIZON,) if _AUX_HORIZON not in horizons else ()
    return SequenceClassifier(horizons=(*horizons, *extra), random_state=random_state, **params)


def _fit_sequence(
    seq: SequenceClassifier, panel: pd.DataFrame, loans: pd.DataFrame, as_of: int
) -> SequenceClassifier:
    t = make_targets(panel, seq.horizons, as_of=as_of)
    y = t[[f"Y_{h}" for h in seq.horizons]].copy()
    y.loc[~t["Performing"].to_numpy()] = np.nan
    aux = f"Y_{_AUX_HORIZON}"
    if aux in y and y[aux].nunique() < 2:
        y[aux] = np.nan  # the auxiliary head learns nothing rather than failing the fit
    return seq.fit(panel, loans, y)


def refit_sequence(
    seq: SequenceClassifier, panel: pd.DataFrame, loans: pd.DataFrame
) -> SequenceClassifier:
    """A sequence model with ``seq``'s settings fitted on every labelled month of ``panel``
    (for the watchlist, like the GBM refit there)."""
    fresh = SequenceClassifier(**seq.get_params())
    return _fit_sequence(fresh, panel, loans, int(panel["Month"].max()))


def choose_model(
    model: str,
    *,
    panel: pd.DataFrame,
    loans: pd.DataFrame,
    feats: pd.DataFrame,
    features: tuple[str, ...],
    gbm: HorizonClassifiers,
    cutoff: int,
    full_t: pd.DataFrame,
    test_rows: np.ndarray,
    score_rows: np.ndarray,
    budget: float,
    random_state: int,
    sequence_params: dict[str, Any] | None = None,
) -> ModelChoice:
    """Fit and compare the candidates; return the one that scores the book.

    Parameters
    ----------
    model : {"gbm", "sequence", "blend", "auto"}
        What was asked for.
    panel, loans, feats : DataFrame
        Validated panel, loan table and its feature table (same rows as the panel).
    features : tuple of str
        GBM feature columns.
    gbm : HorizonClassifiers
        The GBM fitted at ``cutoff`` (its parameters are reused for the validation fit).
    cutoff : int
        Last training month.
    full_t : DataFrame
        Targets as of the panel's end (test labels).
    test_rows, score_rows : ndarray
        Positions of the test rows, and of every row the chosen model must score.
    budget : float
        Alert budget.
    random_state : int
        Seed.
    sequence_params : dict, optional
        Extra :class:`SequenceClassifier` parameters (tests use tiny networks).

    Returns
    -------
    ModelChoice
    """
    if model not in MODEL_CHOICES:
        raise ModelChoiceError(
            f"unknown model {model!r}; expected one of {', '.join(MODEL_CHOICES)}"
        )
    horizons = tuple(gbm.horizons)
    month = feats["Month"].to_numpy()
    ids = feats["Loan_ID"].to_numpy()
    test = _Rows(test_rows, full_t.loc[test_rows], month[test_rows], ids[test_rows])
    p_gbm_test = gbm.predict_proba_horizons(feats.loc[test_rows, list(features)])
    if model == "gbm" or (model == "auto" and not torch_available()):
        reason = (
            "asked for"
            if model == "gbm"
            else ("PyTorch is not installed (pip install 'loanrecovery[deep]'), so auto uses gbm")
        )
        scores = test.scores({"gbm": p_gbm_test}, horizons, budget, {})
        return ModelChoice(model, "gbm", reason, gbm, test=scores)
    require_torch()
    params = dict(sequence_params or {})
    seconds: dict[str, float] = {}
    weights, validation, chosen, reason = _validate(
        model, panel, loans, feats, features, gbm, cutoff, budget, random_state, params, seconds
    )
    if chosen == "gbm":
        scores = test.scores({"gbm": p_gbm_test}, horizons, budget, {})
        return ModelChoice(model, "gbm", reason, gbm, _named(weights), validation, scores, seconds)
    start = time.perf_counter()
    seq = _fit_sequence(_sequence(random_state, horizons, params), panel, loans, cutoff)
    seconds["fit_sequence"] = round(time.perf_counter() - start, 2)
    start = time.perf_counter()
    p_seq = seq.predict_proba_horizons(panel, loans).loc[:, [f"P_{h}" for h in horizons]]
    seconds["score_sequence"] = round(time.perf_counter() - start, 2)
    probs = {"gbm": p_gbm_test, "sequence": p_seq.loc[test_rows]}
    scores = test.scores(probs, horizons, budget, weights)
    rows = np.union1d(score_rows, test_rows)
    chosen_probs = p_seq.loc[rows].copy()
    if chosen == "blend":
        p_gbm = gbm.predict_proba_horizons(feats.loc[rows, list(features)])
        previous = None
        for h in sorted(horizons):
            p = _blend(p_gbm[f"P_{h}"].to_numpy(), p_seq.loc[rows, f"P_{h}"].to_numpy(), weights[h])
            chosen_probs[f"P_{h}"] = p if previous is None else np.maximum(p, previous)
            previous = chosen_probs[f"P_{h}"].to_numpy()
    scorer = _RowScorer(chosen_probs, gbm)
    return ModelChoice(
        model, chosen, reason, scorer, _named(weights), validation, scores, seconds, seq
    )


def _named(weights: dict[int, float]) -> dict[str, float]:
    return {str(h): w for h, w in weights.items()}


def _validate(
    model: str,
    panel: pd.DataFrame,
    loans: pd.DataFrame,
    feats: pd.DataFrame,
    features: tuple[str, ...],
    gbm: HorizonClassifiers,
    cutoff: int,
    budget: float,
    random_state: int,
    params: dict[str, Any],
    seconds: dict[str, float],
) -> tuple[dict[int, float], dict[str, Any], str, str]:
    """Refit both models at an earlier cut-off, score the months up to ``cutoff``, choose."""
    horizons = tuple(gbm.horizons)
    month = feats["Month"].to_numpy()
    seen = np.flatnonzero(month <= cutoff)
    try:
        inner = choose_cutoff(month[seen], test_months=VALIDATION_MONTHS, max_horizon=max(horizons))
    except ValueError as exc:
        if model == "auto":
            return {}, {}, "gbm", f"no validation window before the cut-off ({exc}); auto uses gbm"
        if model == "blend":
            raise ModelChoiceError(f"the blend's weight needs a validation window: {exc}") from None
        return {}, {}, model, f"asked for (no validation window before the cut-off: {exc})"
    start = time.perf_counter()
    p_in = panel.iloc[seen]
    t_fit = make_targets(p_in, horizons, as_of=inner)
    t_val = make_targets(p_in, horizons)
    fit_rows = np.flatnonzero(t_fit["Performing"].to_numpy())
    val_rows = np.flatnonzero(t_val["Performing"].to_numpy() & (month[seen] > inner))
    g = HorizonClassifiers(**gbm.get_params()).fit(
        feats.iloc[seen].iloc[fit_rows][list(features)], t_fit.iloc[fit_rows]
    )
    seconds["validation_fit_gbm"] = round(time.perf_counter() - start, 2)
    start = time.perf_counter()
    seq = _fit_sequence(_sequence(random_state, horizons, params), p_in, loans, inner)
    seconds["validation_fit_sequence"] = round(time.perf_counter() - start, 2)
    f_val = feats.iloc[seen].iloc[val_rows]
    probs = {
        "gbm": g.predict_proba_horizons(f_val[list(features)]).reset_index(drop=True),
        "sequence": seq.predict_proba_horizons(p_in, loans).iloc[val_rows].reset_index(drop=True),
    }
    val = _Rows(
        val_rows,
        t_val.iloc[val_rows].reset_index(drop=True),
        f_val["Month"].to_numpy(),
        f_val["Loan_ID"].to_numpy(),
    )
    weights = _blend_weights(val, probs, horizons, budget)
    scores: dict[str, Any] = val.scores(probs, horizons, budget, weights)
    scores["months"] = [int(inner) + 1, int(cutoff)]
    chosen, reason = _pick(model, scores, horizons)
    logger.info("model choice: %s (%s)", chosen, reason)
    return weights, scores, chosen, reason


def _blend_weights(
    val: _Rows, probs: dict[str, pd.DataFrame], horizons: tuple[int, ...], budget: float
) -> dict[int, float]:
    weights: dict[int, float] = {}
    for h in horizons:
        y_all = val.targets[f"Y_{h}"].to_numpy()
        k = ~np.isnan(y_all)
        pg, ps = probs["gbm"][f"P_{h}"].to_numpy()[k], probs["sequence"][f"P_{h}"].to_numpy()[k]
        aucs = [
            budget_metrics(_blend(pg, ps, w), y_all[k], val.month[k], val.ids[k], budget)["auc"]
            for w in _WEIGHTS
        ]
        weights[h] = float(_WEIGHTS[int(np.nanargmax(aucs))]) if np.isfinite(aucs).any() else 0.5
    return weights


def _pick(model: str, scores: dict[str, Any], horizons: tuple[int, ...]) -> tuple[str, str]:
    if model != "auto":
        return model, "asked for"
    gains: dict[str, list[float]] = {}
    for name in ("sequence", "blend"):
        gains[name] = [
            (scores[name][str(h)]["auc"] or 0.0) - (scores["gbm"][str(h)]["auc"] or 0.0)
            for h in horizons
        ]
    qualified = {n: float(np.mean(g)) for n, g in gains.items() if min(g) >= AUC_BAR}
    text = "; ".join(f"{n} {', '.join(f'{g:+.4f}' for g in gains[n])}" for n in gains)
    if not qualified:
        return (
            "gbm",
            f"no candidate beats gbm by {AUC_BAR} validation AUC at every horizon ({text})",
        )
    best = max(qualified, key=lambda n: qualified[n])
    return best, f"beats gbm by >= {AUC_BAR} validation AUC at every horizon ({text})"
