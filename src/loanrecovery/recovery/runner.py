"""`run_recovery`: effects from history, the three plans, their certificates and insights."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from loanrecovery.actions import ACTIONS
from loanrecovery.contract.schema import COLLECTION_SPECS
from loanrecovery.exceptions import DataFileError
from loanrecovery.recovery.catalogue import Catalogue, load_catalogue
from loanrecovery.recovery.effects import ActionEffectEstimator
from loanrecovery.recovery.evaluation import true_net_recovery
from loanrecovery.recovery.features import decision_features, dpd_bucket, snapshot_cases
from loanrecovery.recovery.planning import (
    BOUND_ALL_ACCOUNTS,
    BOUND_CHAMPION_ARM,
    RecoveryResult,
    case_risks,
    plan_recovery,
)
from loanrecovery.recovery.policy import validate_policy
from loanrecovery.strategy import StrategyPolicy, load_policy

__all__ = [
    "RecoveryResult",
    "EffectsFit",
    "fit_effects",
    "case_values",
    "case_values_by_fold",
    "values_by_fold",
    "run_recovery",
    "case_risks",
    "plan_recovery",
    "recovery_json",
    "POLICIES",
    "BOUND_ALL_ACCOUNTS",
    "BOUND_CHAMPION_ARM",
]

logger = logging.getLogger(__name__)

#: Plans compared in every result, in report order.
POLICIES: tuple[str, ...] = ("seed_rules", "greedy", "optimized")
_HISTORY_COLUMNS = (
    *(spec.name for spec in COLLECTION_SPECS),
    "Days_Past_Due_At_Action",
    "Balance_At_Action",
)
RECOVERY_HORIZON = 12
MIN_MATURE_ROWS = 500


def _history(
    collections: pd.DataFrame, loans: pd.DataFrame, source: str
) -> tuple[pd.DataFrame, str]:
    """The past actions effects are estimated from, and a sentence saying which.

    Actions whose 12-month outcome has closed by the snapshot are used when there are at
    least ``MIN_MATURE_ROWS`` of them; otherwise every action, and the sentence says that
    the open outcomes are counted so far (which understates recovery).
    """
    missing = [c for c in _HISTORY_COLUMNS if c not in collections.columns]
    if missing:
        raise DataFileError(
            source,
            f"missing column(s) {missing}; collections history needs {list(_HISTORY_COLUMNS)}",
        )
    n = len(collections)
    if "Snapshot_Month" in loans and len(loans):
        snapshot = int(pd.to_numeric(loans["Snapshot_Month"]).max())
        mature = collections[collections["Month"] + RECOVERY_HORIZON <= snapshot]
        if len(mature) >= MIN_MATURE_ROWS:
            note = (
                f"{len(mature):,} past actions whose 12-month outcome had closed by month "
                f"{snapshot}"
            )
            logger.info("effects from %s", note)
            return mature.reset_index(drop=True), note
        note = (
            f"all {n:,} past actions, {n - len(mature):,} of them with a 12-month outcome still "
            f"open at month {snapshot} (only {len(mature):,} closed, fewer than "
            f"{MIN_MATURE_ROWS:,}): their recovery so far is counted, so effects are understated"
        )
        logger.warning("effects from %s", note)
        return collections.reset_index(drop=True), note
    note = f"{n:,} past actions (no Snapshot_Month: every outcome is taken as final)"
    return collections.reset_index(drop=True), note


def _history_buckets(history: pd.DataFrame, loans: pd.DataFrame) -> np.ndarray:
    """Days-past-due bucket x secured of each past action: the groups of the effect table
    (a simulated history carries them as its ``Segment`` column)."""
    if "Segment" in history:
        return history["Segment"].astype(str).to_numpy()
    secured = (
        history["Loan_ID"].map(loans.set_index("Loan_ID")["Collateral_Value"].gt(0)).fillna(False)
    )
    return dpd_bucket(history["Days_Past_Due_At_Action"].to_numpy(), secured.to_numpy(bool))


def _insights(est: ActionEffectEstimator) -> list[str]:
    out = []
    pairs = [
        ("Legal Action", "Settlement Offer"),
        ("Call", "Automated Reminder"),
        ("Agency Placement", "Legal Notice"),
    ]
    for action, reference in pairs:
        if action not in est.actions_ or reference not in est.actions_:
            continue
        c = est.contrast(action, reference)
        rec_ref, cost_ref = c["recovery_reference"], c["cost_reference"]

        def pct(x: float, ref: float) -> str:
            # Recoveries and costs are never negative, so no difference goes below -ref
            # (-100%): a normal-approximation bound beyond it is clipped there.
            x = max(x, -ref) if ref > 0 else x
            return f"{100 * x / ref:+.0f}%" if abs(ref) > 1e-9 else f"{x:+,.0f} USD"

        out.append(
            f"{action} against {reference}: {pct(c['recovery_diff'], rec_ref)} recovery "
            f"(95% interval {pct(c['recovery_diff_low'], rec_ref)} to "
            f"{pct(c['recovery_diff_high'], rec_ref)}) at {pct(c['cost_diff'], cost_ref)} cost "
            f"(95% interval {pct(c['cost_diff_low'], cost_ref)} to "
            f"{pct(c['cost_diff_high'], cost_ref)}), corrected for who got which action"
        )
    return out


@dataclass
class EffectsFit:
    """The action-effect estimator fitted on a collection history, and what it found.

    Attributes
    ----------
    estimator : ActionEffectEstimator
    history_rows : int
        History rows the effects were estimated from.
    history_note : str
        Which history, in a sentence.
    table : dict of str to list
        The effect table (:attr:`ActionEffectEstimator.effects_`) column by column.
    insights : list of str
        Causal statements about actions, with intervals.
    """

    estimator: ActionEffectEstimator
    history_rows: int
    history_note: str
    table: dict[str, list[Any]] = field(default_factory=dict)
    insights: list[str] = field(default_factory=list)

    @property
    def effects(self) -> pd.DataFrame:
        """The effect table: per segment and action, naive and corrected means."""
        return pd.DataFrame(self.table)

    def for_prediction(self) -> EffectsFit:
        """A copy whose estimator keeps only what prediction needs (for a bundle file)."""
        return EffectsFit(
            estimator=self.estimator.predictor(),
            history_rows=self.history_rows,
            history_note=self.history_note,
            table=self.table,
            insights=self.insights,
        )


def fit_effects(
    loans: pd.DataFrame,
    collections: pd.DataFrame,
    payments: pd.DataFrame | None = None,
    *,
    seed: int = 0,
) -> EffectsFit:
    """Fit the doubly robust effect of each action on the history (see :func:`_history`).

    Parameters
    ----------
    loans, collections, payments : DataFrame
        A validated book's tables (``collections`` with ``Days_Past_Due_At_Action`` and
        ``Balance_At_Action``).
    seed : int, default 0

    Raises
    ------
    DataFileError
        The history lacks a column, or fewer than two actions have enough history.
    """
    history, note = _history(collections, loans, "collections")
    # Earlier actions (dates and kinds, before each decision) are pre-decision history of the
    # account: a legal case already under way changes what any new action can add.
    features = decision_features(history, loans, payments, prior=True)
    est = ActionEffectEstimator(random_state=seed).fit(
        features,
        history["Action"].to_numpy(),
        history["Recovered_Amount"].to_numpy(float),
        history["Cost"].to_numpy(float),
        _history_buckets(history, loans),
    )
    table = {
        str(col): [v.item() if isinstance(v, np.generic) else v for v in est.effects_[col]]
        for col in est.effects_.columns
    }
    return EffectsFit(
        estimator=est,
        history_rows=len(history),
        history_note=note,
        table=table,
        insights=_insights(est),
    )


def case_values(
    loans: pd.DataFrame,
    collections: pd.DataFrame | None,
    payments: pd.DataFrame | None,
    est: ActionEffectEstimator,
    catalogue: Catalogue,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The loans to plan for (active, 30+ days past due) with the expected recovery and cost
    of every catalogue action (catalogue order), from a fitted effect estimator."""
    cases, rec, cost, _ = case_values_by_fold(loans, collections, payments, est, catalogue)
    return cases, rec, cost


def case_values_by_fold(
    loans: pd.DataFrame,
    collections: pd.DataFrame | None,
    payments: pd.DataFrame | None,
    est: ActionEffectEstimator,
    catalogue: Catalogue,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`case_values` and each cross-fitting fold model's net recovery (folds x cases x
    catalogue actions, ``nan`` where an action has no estimate), whose spread is the model
    uncertainty of an account's figures."""
    cases, case_features = snapshot_cases(loans, payments, collections)
    return values_by_fold(cases, case_features, est, catalogue)


def values_by_fold(
    cases: pd.DataFrame,
    case_features: pd.DataFrame,
    est: ActionEffectEstimator,
    catalogue: Catalogue,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`case_values_by_fold` of the cases and features of
    :func:`~loanrecovery.recovery.features.snapshot_cases`."""
    for col in est.feature_names_in_:
        if col not in case_features:
            case_features[col] = np.nan
    rec_folds, cost_folds = est.predict_by_fold(case_features)
    cols = [ACTIONS.index(a) for a in catalogue.names]
    rec = np.maximum(rec_folds.mean(axis=0), 0.0)[:, cols]
    cost = np.maximum(cost_folds.mean(axis=0), 0.0)[:, cols]
    fallback = np.array([a.cost for a in catalogue.actions])
    cost = np.where(np.isnan(cost), fallback[None, :], cost)
    fold_cost = np.maximum(cost_folds[:, :, cols], 0.0)
    fold_cost = np.where(np.isnan(fold_cost), fallback[None, None, :], fold_cost)
    net_folds = np.maximum(rec_folds[:, :, cols], 0.0) - fold_cost
    collateral = (
        cases["Collateral_Value"]
        if "Collateral_Value" in cases
        else pd.Series(0.0, index=cases.index)
    )
    secured = pd.to_numeric(collateral, errors="coerce").fillna(0).gt(0)
    cases = cases.assign(
        DPD_Bucket=dpd_bucket(cases["Days_Past_Due"].to_numpy(float), np.asarray(secured, bool))
    )
    return cases, rec, cost, net_folds


def run_recovery(
    loans: pd.DataFrame,
    collections: pd.DataFrame,
    payments: pd.DataFrame | None = None,
    *,
    budget: float | None = None,
    capacities: Mapping[str, float] | None = None,
    policy: StrategyPolicy | None = None,
    catalogue: Catalogue | None = None,
    risk_score: np.ndarray | pd.Series | None = None,
    challenger: StrategyPolicy | None = None,
    challenger_share: float = 0.0,
    seed: int = 0,
    effects: EffectsFit | None = None,
    segments: pd.Series | None = None,
) -> RecoveryResult:
    """Estimate action effects from history and plan the delinquent loans three ways.

    Parameters
    ----------
    loans : DataFrame
        The loan table at the snapshot (``loans.csv`` layout); the plan covers active loans
        at least 30 days past due.
    collections : DataFrame
        One row per past action (``collections.csv`` layout).
    payments : DataFrame, optional
        Monthly payments (``payments.csv``), for arrears and shortfall features.
    budget : float, optional
        Total expected cost limit of a plan.
    capacities : mapping, optional
        Accounts per action, overriding the catalogue.
    policy : StrategyPolicy, optional
        Rule ladder of ``seed_rules`` (default: the built-in policy), validated against the
        catalogue.
    catalogue : Catalogue, optional
        Action catalogue (default: the built-in one).
    risk_score : array or Series, optional
        Default-risk score per loan (Series indexed by ``Loan_ID`` or aligned with
        ``loans``); by default :func:`risk_proxy`.
    challenger : StrategyPolicy, optional
        Rule ladder played on a random ``challenger_share`` of the accounts.
    seed : int, default 0
    effects : EffectsFit, optional
        Effects fitted before (:func:`fit_effects`, e.g. from a bundle); fitted on
        ``collections`` otherwise.
    segments : Series, optional
        The risk stage's segment of each loan, indexed by ``Loan_ID``
        (:meth:`~loanrecovery.risk_model.BookRiskModel.segments_of`): the plan's ``Segment``,
        which the policy's ``segments`` conditions test. ``Unsegmented`` without it.

    Returns
    -------
    RecoveryResult
    """
    start = time.perf_counter()
    catalogue = catalogue if catalogue is not None else load_catalogue()
    policy = validate_policy(policy if policy is not None else load_policy(), catalogue)
    if challenger is not None:
        validate_policy(challenger, catalogue)
    if effects is None:
        effects = fit_effects(loans, collections, payments, seed=seed)
    cases, rec, cost, net_folds = case_values_by_fold(
        loans, collections, payments, effects.estimator, catalogue
    )
    cases, risk = case_risks(loans, cases, risk_score, segments, seed=seed)
    return plan_recovery(
        cases,
        risk,
        rec,
        cost,
        net_folds,
        effects=effects,
        budget=budget,
        capacities=capacities,
        policy=policy,
        catalogue=catalogue,
        challenger=challenger,
        challenger_share=challenger_share,
        seed=seed,
        started=start,
    )


def recovery_json(result: RecoveryResult, truth: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON of ``optimize``: per plan figures, bound, gap, checks, timings, insights.

    ``truth`` (a simulated book's ``truth.json``, evaluation only) adds each plan's
    ``true_net_recovery``.
    """
    out: dict[str, Any] = {}
    for name in POLICIES:
        entry = dict(result.summary[name])
        if truth is not None:
            entry["true_net_recovery"] = true_net_recovery(result.plans[name], truth)
        out[name] = entry
    out.update({k: v for k, v in result.summary.items() if k not in POLICIES})
    out["insights"] = result.insights
    return out
