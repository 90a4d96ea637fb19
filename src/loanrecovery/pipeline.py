"""``loanrecovery run``: contract → features → segmentation → risk → strategy → insights.

This module only composes the stages; each lives in its own module.
"""

from __future__ import annotations

import html
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from loanrecovery.actions import NO_ACTION
from loanrecovery.contract import (
    ValidationResult,
    validate_collections,
    validate_loans,
    validate_panel,
)
from loanrecovery.exceptions import DataFileError, NoValidRowsError
from loanrecovery.features import LoanFeatures
from loanrecovery.insights import Insight, compute_insights
from loanrecovery.modeling.reasons import IN_DEFAULT_REASON
from loanrecovery.report.section import Section
from loanrecovery.risk import (
    RiskModelResult,
    RiskTarget,
    fit_champion_model,
    fit_risk_model,
    resolve_target,
)
from loanrecovery.segmentation import PROFILE_FEATURES, RiskSegmenter, segment_profile
from loanrecovery.strategy import StrategyPolicy, assign_strategies, explain_strategies

__all__ = [
    "PipelineResult",
    "run_pipeline",
    "write_outputs",
    "auc_interval",
    "to_jsonable",
    "SCORED_LEADING_COLUMNS",
]

logger = logging.getLogger(__name__)

SCORED_LEADING_COLUMNS = ["Loan_ID", "Segment", "Risk_Score", "Strategy"]
_SMALL_SAMPLE = 1000
#: Segment of loans with nothing outstanding (paid off or settled).
CLOSED = "Closed"


def auc_interval(auc: float, n_pos: int, n_neg: int) -> tuple[float, float]:
    """95% confidence interval of a ROC AUC (Hanley & McNeil 1982)."""
    if n_pos == 0 or n_neg == 0 or not math.isfinite(auc):
        return (math.nan, math.nan)
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (
        n_pos * n_neg
    )
    half = 1.959964 * math.sqrt(max(var, 0.0))
    return (max(0.0, auc - half), min(1.0, auc + half))


@dataclass
class PipelineResult:
    """Everything ``run`` computed; the report and output files are rendered from it."""

    source: str
    validation: ValidationResult
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
    reasons: pd.DataFrame | None = None
    segment_stability: float = float("nan")
    watchlist: pd.DataFrame | None = None
    plan: pd.DataFrame | None = None
    history_rejects: pd.DataFrame | None = None
    panel_rejects: pd.DataFrame | None = None
    seconds: float = 0.0
    sections: list[Section] = field(default_factory=list)
    extra_metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def scored(self) -> pd.DataFrame:
        """One row per accepted loan: Loan_ID, Segment, Risk_Score, Strategy, inputs, rule."""
        loans = self.validation.accepted
        lead = pd.DataFrame(
            {
                "Loan_ID": loans["Loan_ID"].to_numpy(),
                "Segment": self.segments,
                "Risk_Score": np.round(self.risk.scores, 6),
                "Strategy": self.strategies,
            }
        )
        rest = loans.drop(columns=["Loan_ID"]).reset_index(drop=True)
        out = pd.concat([lead, rest], axis=1)
        out["Strategy_Rule"] = self.strategy_rules
        if self.reasons is not None:
            out = pd.concat([out, self.reasons.reset_index(drop=True)], axis=1)
        return out

    def metrics(self) -> dict[str, Any]:
        """The JSON-ready figures of the run (``metrics.json``)."""
        shares = pd.Series(self.segments).value_counts(normalize=True)
        counts = pd.Series(self.strategies).value_counts()
        profile = self.profile.reset_index().replace({np.nan: None})
        return {
            "source": self.source,
            "rows": {
                "in": self.validation.n_rows_in,
                "scored": self.validation.n_accepted,
                "rejected": self.validation.n_rejected,
            },
            "target": {"column": self.target.name, "definition": self.target.description},
            "model": self.risk.metrics,
            "baseline": self.baseline.metrics,
            "segments": {
                "shares": {str(k): float(v) for k, v in shares.items()},
                "profile": profile.to_dict(orient="records"),
                "reseeding_agreement": self.segment_stability,
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


def reseeding_agreement(
    features: pd.DataFrame,
    observed: np.ndarray,
    segments: np.ndarray,
    seeds: tuple[int, ...] = (1, 2),
) -> float:
    """Lowest share of loans that keep their segment name when K-Means is reseeded."""
    agreement = [
        float(np.mean(RiskSegmenter(random_state=seed).fit_predict(features, observed) == segments))
        for seed in seeds
    ]
    return min(agreement)


def _segment_risk_test(segments: np.ndarray, observed: np.ndarray) -> str | None:
    """Say so when the profiles do not differ significantly in observed risk."""
    known = ~np.isnan(observed)
    table = pd.crosstab(segments[known], observed[known])
    if table.shape[0] < 2 or table.shape[1] < 2:
        return None
    p_value = float(stats.chi2_contingency(table.to_numpy())[1])
    if p_value >= 0.05:
        return (
            f"The risk profiles do not differ significantly in observed bad-outcome rate "
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
    loans: pd.DataFrame,
    *,
    source: str,
    policy: StrategyPolicy,
    collections: pd.DataFrame | None = None,
    payments: pd.DataFrame | None = None,
    random_state: int = 42,
    progress: Callable[[str], None] | None = None,
) -> PipelineResult:
    """Run every stage on a loan table.

    Parameters
    ----------
    loans : DataFrame
        The loan table as read (text or typed); validated here against the contract.
    source : str
        Where it came from, for messages.
    policy : StrategyPolicy
        The strategy ladder.
    collections, payments : DataFrame, optional
        Collection history and monthly payment panel, when available.
    random_state : int, default=42
        Seed of every random step.
    progress : callable, optional
        Called with the name of each stage as it starts.

    Raises
    ------
    DataFileError
        No loan passed the contract, or the data has no target to learn from.
    """
    started = time.perf_counter()
    step = progress or (lambda _name: None)
    step("contract")
    validation = validate_loans(loans, source=source)
    accepted = validation.accepted
    if validation.n_accepted == 0:
        raise NoValidRowsError(source, validation.rejects)
    history: ValidationResult | None = None
    if collections is not None:
        history = validate_collections(
            collections,
            source="collection history",
            loan_ids=accepted["Loan_ID"],
            as_of=_as_of(accepted),
        )
        collections = history.accepted
    # Validated once, before any stage reads it (issue 17; the Book of issue 10 takes over).
    panel = None if payments is None else validate_panel(payments, accepted, source="payments")
    payments = None if panel is None else panel.accepted.drop(columns="Row")
    target = resolve_target(accepted)
    if target is None:
        raise DataFileError(
            source,
            "no outcome to learn from: expected a 'Default_Next_6M' (0/1) or 'Recovery_Status' "
            "column; to score new loans with a trained model use `loanrecovery score`",
        )
    step("features")
    features = LoanFeatures().fit_transform(accepted)

    step("segmentation")
    observed = np.where(target.in_default, 1.0, target.values)
    open_loans = ~target.closed
    if open_loans.sum() < 4:
        raise DataFileError(
            source,
            f"only {int(open_loans.sum())} open loans; at least 4 are needed to form risk profiles",
        )
    profile_features = features.loc[open_loans, list(PROFILE_FEATURES)]
    segmenter = RiskSegmenter(random_state=random_state)
    segments = np.full(len(accepted), CLOSED, dtype=object)
    segments[open_loans] = segmenter.fit_predict(profile_features, observed[open_loans])
    stability = reseeding_agreement(profile_features, observed[open_loans], segments[open_loans])

    step("risk model")
    known = target.values[target.trainable]
    if len(np.unique(known)) < 2:
        raise DataFileError(
            source,
            f"the target has {len(known)} usable values, all "
            f"{'missing' if len(known) == 0 else int(known[0])}: a risk model needs both good (0) "
            "and bad (1) outcomes among open loans",
            column=target.name,
        )
    risk = fit_champion_model(features, target, random_state=random_state)
    step("baseline forest")
    baseline = fit_risk_model(features, target, random_state=random_state)
    reasons = _reasons(risk, features, target)

    step("strategy")
    dpd = accepted["Days_Past_Due"].to_numpy(dtype=float)
    strategies = assign_strategies(policy, risk.scores, segments, dpd)
    rules = explain_strategies(policy, risk.scores, segments, dpd)
    strategies[target.closed] = NO_ACTION
    rules[target.closed] = "Closed: nothing outstanding"

    step("insights")
    insights = compute_insights(
        accepted,
        observed,
        segments,
        collections=collections,
        payments=payments,
        outcome="default" if target.name != "Recovery_Status" else "a recovery short of full",
    )
    profile = segment_profile(
        features.loc[open_loans, list(PROFILE_FEATURES)],
        segments[open_loans],
        observed[open_loans],
        risk.scores[open_loans],
    )
    has_panel = payments is not None
    result = PipelineResult(
        source=source,
        validation=validation,
        target=target,
        features=features,
        segments=segments,
        profile=profile,
        risk=risk,
        baseline=baseline,
        reasons=reasons,
        strategies=strategies,
        strategy_rules=rules,
        policy=policy,
        insights=insights,
        limits=[
            *_data_limits(target, risk, validation.n_accepted, has_panel),
            *filter(None, [_segment_risk_test(segments[open_loans], observed[open_loans])]),
        ],
        has_payment_panel=has_panel,
        segment_stability=stability,
        history_rejects=None if history is None else history.rejects,
    )
    step("early warning")
    _add_early_warning(result, payments, random_state=random_state)
    if panel is not None:
        result.panel_rejects = panel.rejects
    step("recovery plan")
    _add_recovery(result, collections, payments, random_state=random_state)
    result.seconds = time.perf_counter() - started
    return result


def _as_of(loans: pd.DataFrame) -> int | None:
    """The loans' as-of month (largest Snapshot_Month), when they have one."""
    if "Snapshot_Month" not in loans.columns or not len(loans):
        return None
    months = pd.to_numeric(loans["Snapshot_Month"], errors="coerce")
    return int(months.max()) if months.notna().any() else None


def _add_recovery(
    result: PipelineResult,
    collections: pd.DataFrame | None,
    payments: pd.DataFrame | None,
    *,
    random_state: int,
) -> None:
    """Action effects from the collection history and an optimized plan for the
    delinquent loans, when the data has a history; otherwise the report says it needs one."""
    from loanrecovery.recovery import recovery_json, recovery_section, run_recovery

    if collections is None or not len(collections):
        result.limits.append(
            "No collection history: the effect of each action and an optimized plan need one "
            "(collections.csv: Loan_ID, Month, Action, Cost, Recovered_Amount)."
        )
        return
    loans = result.validation.accepted
    policy_path = None if result.policy.source.startswith("<built-in") else result.policy.source
    recovery = run_recovery(
        loans,
        collections,
        payments,
        policy_path=policy_path,
        risk_score=pd.Series(result.risk.scores, index=loans["Loan_ID"].to_numpy()),
        seed=random_state,
    )
    result.sections.append(recovery_section(recovery))
    result.extra_metrics["recovery"] = recovery_json(recovery)
    result.plan = recovery.plans["optimized"]
    result.insights.extend(
        Insight(
            key=f"action_effect_{k + 1}",
            claim="Effect of collection actions (corrected "
            "for the legacy policy's choice of accounts)",
            finding=text,
        )
        for k, text in enumerate(recovery.insights)
    )


def _add_early_warning(
    result: PipelineResult, payments: pd.DataFrame | None, *, random_state: int
) -> None:
    """Early warning from the payment panel when there is one; otherwise say it needs one."""
    from loanrecovery.early_warning import (
        EarlyWarningDataError,
        early_warning_section,
        no_panel_section,
        run_early_warning,
    )
    from loanrecovery.early_warning.section import SECTION_ANCHOR, SECTION_TITLE

    if payments is None:
        result.sections.append(no_panel_section())
        return
    try:
        ew = run_early_warning(result.validation.accepted, payments, random_state=random_state)
    except EarlyWarningDataError as exc:
        logger.warning("early warning skipped: %s", exc)
        result.sections.append(
            Section(
                title=SECTION_TITLE,
                anchor=SECTION_ANCHOR,
                html=f"<p>Early warning could not run on this panel: {html.escape(str(exc))}</p>",
            )
        )
        result.limits.append(f"Early warning could not run: {exc}")
        return
    result.sections.append(early_warning_section(ew))
    result.extra_metrics["early_warning"] = ew.metrics
    result.watchlist = ew.watchlist
    result.panel_rejects = ew.rejects


N_REASONS = 4


def _reasons(risk: RiskModelResult, features: pd.DataFrame, target: RiskTarget) -> pd.DataFrame:
    """The champion's principal reasons for every open loan not already in default."""
    columns = [f"Reason_{k}" for k in range(1, N_REASONS + 1)]
    out = pd.DataFrame("", index=features.index, columns=columns)
    scored = ~target.closed & ~target.in_default
    if scored.any():
        explained = risk.model.explain(features.loc[scored], n_reasons=N_REASONS)
        out.loc[scored, columns] = explained.iloc[:, :N_REASONS].to_numpy()
    out.loc[target.in_default, "Reason_1"] = IN_DEFAULT_REASON
    return out


def write_outputs(result: PipelineResult, out_dir: Path) -> dict[str, Path]:
    """Write scored_loans.csv, rejects.csv, metrics.json and report.html into ``out_dir``."""
    import json

    from loanrecovery.report import render_report

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "scored": out_dir / "scored_loans.csv",
        "rejects": out_dir / "rejects.csv",
        "metrics": out_dir / "metrics.json",
        "report": out_dir / "report.html",
    }
    result.scored.to_csv(paths["scored"], index=False)
    if result.watchlist is not None:
        paths["watchlist"] = out_dir / "watchlist.csv"
        result.watchlist.to_csv(paths["watchlist"], index=False)
    if result.plan is not None:
        paths["plan"] = out_dir / "plan.csv"
        result.plan.to_csv(paths["plan"], index=False)
    if result.history_rejects is not None and len(result.history_rejects):
        paths["collection_rejects"] = out_dir / "collection_rejects.csv"
        result.history_rejects.to_csv(paths["collection_rejects"], index=False)
    if result.panel_rejects is not None and len(result.panel_rejects):
        paths["payment_rejects"] = out_dir / "payment_rejects.csv"
        result.panel_rejects.to_csv(paths["payment_rejects"], index=False)
    result.validation.rejects.to_csv(paths["rejects"], index=False)
    paths["metrics"].write_text(
        json.dumps(to_jsonable(result.metrics()), indent=2, allow_nan=False) + "\n",
        encoding="utf-8",
    )
    paths["report"].write_text(render_report(result), encoding="utf-8")
    return paths


def to_jsonable(value: Any) -> Any:
    """Recursively turn numpy/pandas values into JSON types; NaN and inf become None."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(float(value)) else None
    if value is None or isinstance(value, str):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)
