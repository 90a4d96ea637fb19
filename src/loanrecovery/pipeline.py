"""``loanrecovery run``: validate the book, fit every stage once, apply the bundle, report.

This module only composes: :func:`~loanrecovery.bundle.fit_with_report` fits the stages,
:meth:`~loanrecovery.bundle.Bundle.apply` applies them, and :class:`PipelineResult` gathers
what the report (:mod:`loanrecovery.report`) renders.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from loanrecovery.bundle import BookResult, Bundle, FitReport, fit_with_report
from loanrecovery.bundle.results import SCORED_LEADING_COLUMNS
from loanrecovery.config import Config
from loanrecovery.contract.book import Book
from loanrecovery.early_warning.run import EarlyWarningResult
from loanrecovery.insights import Insight, compute_insights
from loanrecovery.jsonable import to_jsonable
from loanrecovery.recovery.runner import RecoveryResult, recovery_json
from loanrecovery.risk import RiskModelResult, RiskTarget
from loanrecovery.risk_model import CLOSED
from loanrecovery.risk_signal import auc_interval
from loanrecovery.segmentation import PROFILE_FEATURES, segment_profile
from loanrecovery.strategy import StrategyPolicy

__all__ = [
    "PipelineResult",
    "run_pipeline",
    "auc_interval",
    "to_jsonable",
    "SCORED_LEADING_COLUMNS",
    "CLOSED",
]

logger = logging.getLogger(__name__)

_SMALL_SAMPLE = 1000


@dataclass(frozen=True)
class LoanCounts:
    """Rows of the loan table: read, scored, rejected, and the rejects themselves."""

    n_rows_in: int
    n_accepted: int
    n_rejected: int
    rejects: pd.DataFrame


@dataclass
class PipelineResult:
    """Everything ``run`` computed; the report and output files are rendered from it."""

    source: str
    book: Book
    target: RiskTarget
    features: pd.DataFrame
    segments: np.ndarray
    profile: pd.DataFrame
    risk: RiskModelResult
    baseline: RiskModelResult
    strategies: np.ndarray
    strategy_rules: np.ndarray
    policy: StrategyPolicy
    insights: list[Insight]
    limits: list[str]
    has_payment_panel: bool
    bundle: Bundle
    fit_report: FitReport
    applied: BookResult
    reasons: pd.DataFrame | None = None
    segment_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    segment_note: str = ""
    early_warning: EarlyWarningResult | None = None
    early_warning_error: str | None = None
    recovery: RecoveryResult | None = None
    seconds: float = 0.0
    extra_metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def validation(self) -> LoanCounts:
        """Rows read, scored and rejected of the loan table, with its rejects."""
        counts = self.book.counts()["loans"]
        return LoanCounts(
            n_rows_in=counts["in"],
            n_accepted=counts["accepted"],
            n_rejected=counts["rejected"],
            rejects=self.book.rejects["loans"],
        )

    @property
    def watchlist(self) -> pd.DataFrame | None:
        """The early-warning watchlist of the book's latest month."""
        return self.applied.watchlist

    @property
    def plan(self) -> pd.DataFrame | None:
        """The optimized recovery plan."""
        return self.applied.plan

    @property
    def scored(self) -> pd.DataFrame:
        """One row per accepted loan (``scored_loans.csv``; see :attr:`BookResult.scored`)."""
        return self.applied.scored

    @property
    def accounts(self) -> pd.DataFrame | None:
        """One row per account, one answer (``accounts.csv``)."""
        return self.applied.accounts

    def tables(self) -> dict[str, pd.DataFrame | None]:
        """``accounts`` and its views (see :meth:`BookResult.tables`)."""
        return self.applied.tables()

    def metrics(self) -> dict[str, Any]:
        """The JSON-ready figures of the run (``metrics.json``)."""
        shares = pd.Series(self.segments).value_counts(normalize=True)
        counts = pd.Series(self.strategies).value_counts()
        profile = self.profile.reset_index().replace({np.nan: None})
        loans = self.book.counts()["loans"]
        return {
            "source": self.source,
            "rows": {
                "in": loans["in"],
                "scored": loans["accepted"],
                "rejected": loans["rejected"],
            },
            "tables": self.book.counts(),
            "target": {"column": self.target.name, "definition": self.target.description},
            "model": self.risk.metrics,
            "baseline": self.baseline.metrics,
            "segments": {
                "shares": {str(k): float(v) for k, v in shares.items()},
                "profile": profile.to_dict(orient="records"),
                "ladder": self.bundle.risk.segmenter.describe(),
            },
            "strategies": {
                "policy": self.policy.name,
                "counts": {str(k): int(v) for k, v in counts.items()},
            },
            "insights": {i.key: i.to_dict() for i in self.insights},
            "limits": self.limits,
            "seconds": round(self.seconds, 2),
            **self.extra_metrics,
        }


def _segment_risk_test(segments: np.ndarray, observed: np.ndarray) -> str | None:
    """Say so when the segments do not differ significantly in observed risk."""
    known = ~np.isnan(observed)
    table = pd.crosstab(segments[known], observed[known])
    if table.shape[0] < 2 or table.shape[1] < 2:
        return None
    p_value = float(stats.chi2_contingency(table.to_numpy())[1])
    if p_value >= 0.05:
        return (
            f"The risk segments do not differ significantly in observed bad-outcome rate "
            f"(chi-square p = {p_value:.2f}): their names follow the ordering of rates that "
            "may be chance."
        )
    return None


def _data_limits(
    result_target: RiskTarget, risk: RiskModelResult, n_loans: int, has_panel: bool
) -> list[str]:
    limits = []
    if result_target.name == "Recovery_Status":
        limits.append(
            "No time axis: Recovery_Status is observed at the same time as the features, so the "
            "model describes who did not fully recover, not who will default next; its scores "
            "are not forward-looking probabilities of default."
        )
    if not has_panel:
        limits.append(
            "No monthly payment history: early warning (flagging borrowers 3-6 months before "
            "default) needs a payment panel (see `loanrecovery early-warning`)."
        )
    auc = risk.metrics.get("roc_auc")
    n_train, rate = risk.metrics.get("n_train", 0), risk.metrics.get("positive_rate", 0.0)
    if auc is not None:
        n_pos = int(round(n_train * rate))
        low, high = auc_interval(auc, n_pos, n_train - n_pos)
        strength = (
            "little more than chance"
            if low <= 0.55
            else "weak"
            if auc < 0.7
            else "moderate"
            if auc < 0.8
            else "strong"
        )
        limits.append(
            f"Signal: out-of-fold ROC AUC {auc:.3f} (95% CI {low:.3f}-{high:.3f}) on {n_train} "
            f"loans with {n_pos} bad outcomes: the features carry {strength} signal about the "
            "target."
        )
    if n_loans < _SMALL_SAMPLE:
        limits.append(
            f"Small sample ({n_loans} loans): segment profiles, rates and ratios below have wide "
            "intervals."
        )
    limits.append(
        "Treatment columns (Collection_Attempts, Collection_Method, Legal_Action_Taken), outcome "
        "columns and the protected attribute Gender are never model features."
    )
    return limits


def run_pipeline(
    book: Book,
    config: Config | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> PipelineResult:
    """Fit every stage on a validated book, apply the bundle to it, and gather the results.

    The loans the risk model was trained on keep their out-of-fold PDs (no loan is judged by
    a model that saw its outcome); the other stages apply the bundle as ``apply`` would.

    Parameters
    ----------
    book : Book
        The validated book (:func:`~loanrecovery.contract.book.validate_book`).
    config : Config, optional
        Policy, catalogue, limits and seed (defaults otherwise).
    progress : callable, optional
        Called with the name of each stage as it starts.

    Raises
    ------
    DataFileError
        No loan passed the contract, the data has no target to learn from, or too little
        collection history.
    """
    started = time.perf_counter()
    config = config if config is not None else Config()
    step = progress or (lambda _name: None)
    bundle, fitted = fit_with_report(book, config, progress=step)
    step("apply")
    risk = fitted.risk.risk
    early = fitted.early_warning
    applied = bundle.apply(
        book, risk_scores=risk.scores, watchlist=None if early is None else early.watchlist
    )
    target, segments = fitted.target, applied.risk.segments
    observed, open_loans = fitted.risk.observed, ~target.closed
    step("insights")
    insights = compute_insights(
        book.loans,
        observed,
        segments,
        collections=book.collections,
        payments=book.payments,
        outcome="default" if target.name != "Recovery_Status" else "a recovery short of full",
    )
    profile_features = applied.risk.features.loc[open_loans, list(PROFILE_FEATURES)]
    profile = segment_profile(
        profile_features, segments[open_loans], observed[open_loans], risk.scores[open_loans]
    )
    segmenter = bundle.risk.segmenter
    has_panel = book.payments is not None
    limits = [
        *filter(None, [fitted.strategy_fallback]),
        *_data_limits(target, risk, len(book.loans), has_panel),
        *([] if segmenter.fully_segmented else [segmenter.note_]),
        *filter(None, [_segment_risk_test(segments[open_loans], observed[open_loans])]),
    ]
    extra: dict[str, Any] = {"strategy_choice": bundle.manifest.get("strategy")}
    if fitted.early_warning is not None:
        extra["early_warning"] = fitted.early_warning.metrics
    elif fitted.early_warning_error is not None:
        limits.append(f"Early warning could not run: {fitted.early_warning_error}")
    if applied.recovery is not None:
        extra["recovery"] = recovery_json(applied.recovery)
        insights.extend(
            Insight(
                key=f"action_effect_{k + 1}",
                claim="Effect of collection actions (corrected "
                "for the legacy policy's choice of accounts)",
                finding=text,
            )
            for k, text in enumerate(applied.recovery.insights)
        )
    elif book.collections is None or not len(book.collections):
        limits.append(
            "No collection history: the effect of each action and an optimized plan need one "
            "(collections.csv: Loan_ID, Month, Action, Cost, Recovered_Amount)."
        )
    return PipelineResult(
        source=book.source,
        book=book,
        target=target,
        features=applied.risk.features,
        segments=segments,
        profile=profile,
        risk=risk,
        baseline=fitted.baseline,
        reasons=applied.risk.reasons,
        strategies=applied.strategies,
        strategy_rules=applied.strategy_rules,
        policy=bundle.config.policy,
        insights=insights,
        limits=limits,
        has_payment_panel=has_panel,
        bundle=bundle,
        fit_report=fitted,
        applied=applied,
        segment_table=segmenter.table(),
        segment_note=segmenter.note_,
        early_warning=fitted.early_warning,
        early_warning_error=fitted.early_warning_error,
        recovery=applied.recovery,
        seconds=time.perf_counter() - started,
        extra_metrics=extra,
    )
