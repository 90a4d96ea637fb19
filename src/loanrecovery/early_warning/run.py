"""End to end: panel -> features -> out-of-time models -> metrics, survival view, watchlist."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from loanrecovery.contract.payments import PanelValidation, validate_panel
from loanrecovery.early_warning.evaluation import (
    SnapshotBaseline,
    StaticBaseline,
    _with_contract_columns,
    budget_metrics,
    choose_cutoff,
    flag_at_budget,
    lead_months,
    lead_time,
    lead_time_by_warning,
    rule_score,
)
from loanrecovery.early_warning.features import build_features
from loanrecovery.early_warning.horizon import HorizonClassifiers
from loanrecovery.early_warning.model_choice import ModelChoice, choose_model, refit_sequence
from loanrecovery.early_warning.snapshot import snapshot_rows
from loanrecovery.early_warning.survival import (
    SurvivalView,
    kaplan_meier_by_segment,
    landmark_frame,
)
from loanrecovery.early_warning.targets import make_targets
from loanrecovery.early_warning.watchlist import alert_slots
from loanrecovery.early_warning.watchlist_model import (
    DEFAULT_ALERT_BUDGET,
    DEFAULT_ALERT_MIN_PROBABILITY,
    FEATURES,
    HORIZONS,
    PD_HORIZONS,
    WatchlistModel,
)
from loanrecovery.exceptions import LoanRecoveryError
from loanrecovery.segmentation import UNSEGMENTED

__all__ = [
    "EarlyWarningDataError",
    "EarlyWarningResult",
    "run_early_warning",
    "HORIZONS",
    "FEATURES",
]

logger = logging.getLogger(__name__)

#: Months between training landmarks of the survival view.
_LANDMARK_STEP = 3


class EarlyWarningDataError(LoanRecoveryError, ValueError):
    """The panel cannot support an out-of-time early-warning evaluation."""


@dataclass
class EarlyWarningResult:
    """Everything early warning produces.

    Attributes
    ----------
    watchlist : DataFrame
        Performing loans at the latest month, ranked (see
        :data:`~loanrecovery.early_warning.watchlist.WATCHLIST_COLUMNS`).
    metrics : dict
        The JSON of the ``early-warning`` command (layout of issue 4).
    rejects : DataFrame
        Panel rows rejected by validation (``Loan_ID, Row, Column, Value, Reason``).
    details : dict
        Supporting figures for the report and the docs: ``cutoff`` (last training month),
        ``months``, ``n_loans``, ``n_loan_months``, ``n_train_rows``, ``horizons`` (test
        rows, positives, mean predicted against observed rate and Brier score per horizon),
        ``lead_counts`` (numerators and denominators of the lead-time shares),
        ``lead_months`` (Series: months between first alert and default, per test-window
        default), ``lead_by_warning`` (lead-time share of *sudden* and *gradual* defaults),
        ``km_curves`` (Kaplan-Meier curves per segment), ``survival`` (landmark counts),
        ``stage_seconds``, ``n_rows_in`` and ``n_rows_rejected``.
    model : WatchlistModel
        The fitted model behind the watchlist, to apply to later months.
    """

    watchlist: pd.DataFrame
    metrics: dict[str, Any]
    rejects: pd.DataFrame
    details: dict[str, Any] = field(default_factory=dict)
    model: WatchlistModel | None = None


class _Laps:
    """Wall-clock seconds of each stage, logged and kept for the details."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = round(now - self._last, 2)
        self._last = now
        logger.info("early warning: %s took %.1f s", stage, self.seconds[stage])


def _clean(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _round_metrics(m: dict[str, float]) -> dict[str, float | None]:
    return {k: _clean(round(v, 4)) if isinstance(v, float) else v for k, v in m.items()}


def _validated(loans: pd.DataFrame, payments: pd.DataFrame | PanelValidation) -> PanelValidation:
    if isinstance(payments, PanelValidation):
        return payments
    return validate_panel(payments, loans)


def _evaluate_horizons(
    feats: pd.DataFrame,
    snaps: pd.DataFrame,
    train_t: pd.DataFrame,
    test_t: pd.DataFrame,
    test_rows: np.ndarray,
    model: HorizonClassifiers,
    budget: float,
    random_state: int,
) -> tuple[dict[str, Any], dict[str, Any]]:
    out: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    X_test = feats.loc[test_rows, list(FEATURES)]
    probs = model.predict_proba_horizons(X_test)
    rule = rule_score(feats.loc[test_rows])
    month = feats.loc[test_rows, "Month"].to_numpy()
    ids = feats.loc[test_rows, "Loan_ID"].to_numpy()
    for h in HORIZONS:
        y_all = test_t.loc[test_rows, f"Y_{h}"].to_numpy()
        known = ~np.isnan(y_all)
        y = y_all[known]
        p = probs[f"P_{h}"].to_numpy()[known]
        m = budget_metrics(p, y, month[known], ids[known], budget)
        m_rule = budget_metrics(rule[known], y, month[known], ids[known], budget)
        y_train = train_t[f"Y_{h}"]
        y_train = y_train[y_train.notna()]
        y_fit = y_train.to_numpy()
        test_idx = test_rows[known]
        static = StaticBaseline(random_state=random_state).fit(feats.loc[y_train.index], y_fit)
        s_static = static.predict_proba(feats.loc[test_idx])
        m_static = budget_metrics(s_static, y, month[known], ids[known], budget)
        snap = SnapshotBaseline(random_state=random_state).fit(snaps.loc[y_train.index], y_fit)
        s_snap = snap.predict_proba(snaps.loc[test_idx])
        m_snap = budget_metrics(s_snap, y, month[known], ids[known], budget)
        out[str(h)] = {
            **_round_metrics(m),
            "baseline_rule": _round_metrics(m_rule),
            "baseline_static": _round_metrics(m_static),
            "baseline_snapshot": _round_metrics(m_snap),
        }
        extra[str(h)] = {
            "n_test_rows": int(known.sum()),
            "n_test_positive": int(y.sum()),
            "test_months": [int(month[known].min()), int(month[known].max())],
            "mean_predicted": float(p.mean()),
            "observed_rate": float(y.mean()),
            "brier": float(np.mean((p - y) ** 2)),
        }
    return out, extra


def _survival(
    feats: pd.DataFrame,
    snaps: pd.DataFrame,
    train_t: pd.DataFrame,
    full_t: pd.DataFrame,
    cutoff: int,
    segment_of: Callable[[pd.DataFrame], np.ndarray] | None,
) -> tuple[SurvivalView, float, pd.DataFrame, dict[str, int]]:
    last = feats.groupby("Loan_ID", sort=False)["Month"].transform("max").to_numpy(dtype=float)
    first_month = int(feats["Month"].min())
    marks = [cutoff - k for k in range(_LANDMARK_STEP, 13, _LANDMARK_STEP)]
    marks = [m for m in marks if m > first_month]
    d_train = train_t["Default_Month"].to_numpy()
    stacked = pd.concat([landmark_frame(feats, d_train, last, m, end=cutoff) for m in marks])
    view = SurvivalView().fit(stacked)
    d_full = full_t["Default_Month"].to_numpy()
    end = int(feats["Month"].max())
    test = landmark_frame(feats, d_full, last, cutoff, end=end)
    c_index = view.concordance(test)
    # Each test landmark is segmented by the risk stage on the loan as it stood that month.
    segments = (
        np.asarray(segment_of(_with_contract_columns(snaps.loc[test.index])), dtype=object)
        if segment_of is not None
        else np.full(len(test), UNSEGMENTED, dtype=object)
    )
    km = kaplan_meier_by_segment(test, segments, max_months=min(12, end - cutoff))
    counts = {
        "train_landmark_rows": len(stacked),
        "test_landmark_rows": len(test),
        "test_landmark_events": int(test["Event"].sum()),
    }
    return view, c_index, km, counts


def run_early_warning(
    loans: pd.DataFrame,
    payments: pd.DataFrame | PanelValidation,
    *,
    alert_budget: float = DEFAULT_ALERT_BUDGET,
    alert_min_probability: float = DEFAULT_ALERT_MIN_PROBABILITY,
    random_state: int = 42,
    refit_for_watchlist: bool = True,
    model: str = "gbm",
    sequence_params: dict[str, Any] | None = None,
    segments: pd.Series | None = None,
    segment_of: Callable[[pd.DataFrame], np.ndarray] | None = None,
) -> EarlyWarningResult:
    """Build features, train and test out of time, and rank the current book.

    Parameters
    ----------
    loans : DataFrame
        The loan table (canonical columns; ``Origination_Month`` used when present).
    payments : DataFrame or PanelValidation
        The payment panel (validated here unless already validated).
    alert_budget : float, default=0.10
        Largest share of performing accounts that can be alerted per month, in (0, 1].
    alert_min_probability : float, default=0.05
        Lowest 3-month probability of default alerted on the watchlist (the budget is a
        cap, not a quota).
    random_state : int, default=42
        Seed of every model.
    refit_for_watchlist : bool, default=True
        Refit the horizon models on every labelled month before scoring the latest month
        (the evaluation always uses the models fit before the cut-off).
    model : {"gbm", "auto", "sequence", "blend"}, default="gbm"
        Which model is evaluated out of time (the ``horizons`` and ``lead_time`` figures;
        :mod:`~loanrecovery.early_warning.model_choice`), with every candidate's figures in
        ``metrics["model_choice"]``. ``auto`` keeps the GBM unless another candidate beats
        it on validation months by the bar, and is the GBM when PyTorch is not installed.
        The chosen model also scores the watchlist and is kept in
        :attr:`EarlyWarningResult.model` (and so in a bundle); with
        ``refit_for_watchlist`` a chosen sequence model is refit on every labelled month
        like the GBM, the blend keeping its validation weights.
    sequence_params : dict, optional
        Extra parameters of the sequence model (e.g. tiny networks in tests).
    segments : Series, optional
        The risk stage's segment of each loan, indexed by ``Loan_ID``, for the watchlist
        (``Unsegmented`` without it): early warning has no segmenter of its own.
    segment_of : callable, optional
        The risk stage's segment of canonical loan rows (the loans as they stood at each
        test-window landmark), for the months-to-default curves per segment; one
        ``Unsegmented`` curve without it.

    Returns
    -------
    EarlyWarningResult
    """
    start = time.perf_counter()
    lap = _Laps()
    if not 0 < alert_budget <= 1:
        raise EarlyWarningDataError(
            f"alert budget must be a share in (0, 1], e.g. 0.10 for 10%; got {alert_budget}"
        )
    validation = _validated(loans, payments)
    panel = validation.accepted
    if panel.empty:
        raise EarlyWarningDataError("no usable payment rows left after validation")
    lap("validate")
    feats = build_features(panel, loans)
    snaps = snapshot_rows(panel, loans)
    lap("features")
    try:
        cutoff = choose_cutoff(feats["Month"].to_numpy(), max_horizon=max(HORIZONS))
    except ValueError as exc:
        raise EarlyWarningDataError(str(exc)) from None
    train_t = make_targets(panel, HORIZONS, as_of=cutoff)
    full_t = make_targets(panel, PD_HORIZONS if refit_for_watchlist else HORIZONS)
    train_rows = np.flatnonzero(train_t["Performing"].to_numpy())
    test_rows = np.flatnonzero(
        full_t["Performing"].to_numpy() & (feats["Month"].to_numpy() > cutoff)
    )
    gbm = HorizonClassifiers(horizons=HORIZONS, random_state=random_state)
    try:
        gbm.fit(feats.loc[train_rows, list(FEATURES)], train_t.loc[train_rows])
    except ValueError as exc:
        raise EarlyWarningDataError(f"cannot train before month {cutoff}: {exc}") from None
    logger.info("trained horizon models on months <= %d", cutoff)
    try:
        choice = choose_model(
            model, panel=panel, loans=loans, feats=feats, features=FEATURES, gbm=gbm,
            cutoff=cutoff, full_t=full_t, test_rows=test_rows, score_rows=test_rows[:0],
            budget=alert_budget, random_state=random_state, sequence_params=sequence_params,
        )  # fmt: skip
    except ValueError as exc:
        raise EarlyWarningDataError(f"cannot train the {model} model: {exc}") from None
    model_ = choice.scorer
    lap("train")
    horizons, horizon_details = _evaluate_horizons(
        feats, snaps, train_t.loc[train_rows], full_t, test_rows, model_, alert_budget, random_state
    )
    lap("evaluate and baselines")
    scored = feats.loc[test_rows, ["Loan_ID", "Month"]].copy()
    p_alert = model_.predict_proba_horizons(feats.loc[test_rows, list(FEATURES)])["P_3"]
    scored["Flagged"] = flag_at_budget(
        p_alert.to_numpy(), scored["Month"].to_numpy(), scored["Loan_ID"].to_numpy(), alert_budget
    )
    d_by_loan = full_t.groupby(feats["Loan_ID"].to_numpy())["Default_Month"].first()
    leads = lead_time(scored, d_by_loan, cutoff)
    lead_hist = lead_months(scored, d_by_loan, cutoff)
    by_warning = lead_time_by_warning(scored, d_by_loan, cutoff, feats)
    lap("lead time")
    view, c_index, km, surv_counts = _survival(feats, snaps, train_t, full_t, cutoff, segment_of)
    lap("survival and segments")
    watch_model = _watchlist_model(feats, full_t, gbm, view, alert_budget, refit_for_watchlist)
    watch_model.alert_min_probability = alert_min_probability
    _add_sequence(watch_model, choice, panel, loans, refit_for_watchlist)
    watchlist = watch_model.apply_features(feats, full_t, loans, segments, panel=panel)
    watch_model.set_alert_threshold(watchlist)
    lap("watchlist")
    seconds = time.perf_counter() - start
    metrics = {
        "horizons": horizons,
        "lead_time": {
            "share_flagged_3m_before": _clean(round(leads["3"]["share"], 4)),
            "share_flagged_6m_before": _clean(round(leads["6"]["share"], 4)),
        },
        "concordance": _clean(round(c_index, 4)),
        "alert_budget": alert_budget,
        "alert_min_probability": alert_min_probability,
        "alerts": {
            "used": int(watchlist["Alert"].sum()),
            "budget": alert_slots(alert_budget, len(watchlist)),
            "listed": len(watchlist),
        },
        "model_choice": choice.summary(),
        "seconds": round(seconds, 2),
    }
    details = {
        "cutoff": cutoff,
        "months": [int(feats["Month"].min()), int(feats["Month"].max())],
        "n_loan_months": len(feats),
        "n_loans": int(feats["Loan_ID"].nunique()),
        "n_train_rows": len(train_rows),
        "horizons": horizon_details,
        "lead_counts": leads,
        "lead_months": lead_hist,
        "lead_by_warning": by_warning,
        "km_curves": km,
        "survival": surv_counts,
        "stage_seconds": lap.seconds,
        "n_rows_in": validation.n_rows_in,
        "n_rows_rejected": validation.n_rows_rejected,
    }
    return EarlyWarningResult(
        watchlist=watchlist,
        metrics=metrics,
        rejects=validation.rejects,
        details=details,
        model=watch_model,
    )


def _add_sequence(
    watch: WatchlistModel,
    choice: ModelChoice,
    panel: pd.DataFrame,
    loans: pd.DataFrame,
    refit: bool,
) -> None:
    """Put the chosen sequence model (alone or blended) into the watchlist's model."""
    if choice.chosen not in ("sequence", "blend") or choice.sequence is None:
        return
    watch.sequence = refit_sequence(choice.sequence, panel, loans) if refit else choice.sequence
    watch.blend_weights = dict(choice.blend_weights) if choice.chosen == "blend" else {}
    logger.info("watchlist scored by the %s model", watch.kind)


def _watchlist_model(
    feats: pd.DataFrame,
    full_t: pd.DataFrame,
    model: HorizonClassifiers,
    view: SurvivalView,
    budget: float,
    refit: bool,
) -> WatchlistModel:
    """The watchlist's model: the horizon models (:data:`PD_HORIZONS`, chained) refit on every
    labelled month (or the evaluated ones), with the survival view."""
    if refit:
        labelled = np.flatnonzero(full_t["Performing"].to_numpy())
        params = {**model.get_params(), "horizons": PD_HORIZONS}
        model = HorizonClassifiers(**params).fit(
            feats.loc[labelled, list(FEATURES)], full_t.loc[labelled]
        )
    return WatchlistModel(model, view, budget)
