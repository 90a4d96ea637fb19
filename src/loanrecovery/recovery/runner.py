"""`run_recovery`: effects from history, the three plans, their certificates and insights."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from loanrecovery.actions import ACTIONS
from loanrecovery.contract.schema import COLLECTION_SPECS
from loanrecovery.delinquency import DEFAULT_DPD
from loanrecovery.exceptions import DataFileError
from loanrecovery.recovery.baselines import greedy_assignment, seed_rules_assignment
from loanrecovery.recovery.catalogue import ActionSpec, Catalogue, load_catalogue
from loanrecovery.recovery.challenger import assign_arms
from loanrecovery.recovery.compliance import (
    ComplianceReport,
    case_attributes,
    check_plan,
    eligibility,
    schedule_contacts,
)
from loanrecovery.recovery.effects import ActionEffectEstimator
from loanrecovery.recovery.evaluation import true_net_recovery
from loanrecovery.recovery.features import decision_features, dpd_bucket, snapshot_cases
from loanrecovery.recovery.optimizer import Assignment, optimize_assignment
from loanrecovery.recovery.policy import ladder_actions, validate_policy
from loanrecovery.risk import resolve_target
from loanrecovery.segmentation import UNSEGMENTED
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
#: What the optimizer's bound covers (``bound_scope``): with a challenger arm, only the
#: champion arm is optimized.
BOUND_ALL_ACCOUNTS = "all accounts"
BOUND_CHAMPION_ARM = "champion arm"
_HISTORY_COLUMNS = (
    *(spec.name for spec in COLLECTION_SPECS),
    "Days_Past_Due_At_Action",
    "Balance_At_Action",
)
RECOVERY_HORIZON = 12
MIN_MATURE_ROWS = 500


@dataclass
class RecoveryResult:
    """Everything the optimizer produced, for the CLI, the JSON and the report.

    Attributes
    ----------
    cases : DataFrame
        The delinquent loans planned for (with ``Segment``, the risk segment, ``DPD_Bucket``
        and ``Risk_Score``).
    expected_recovery, expected_cost : ndarray of shape (n_cases, n_actions)
        Estimated from history (catalogue order).
    eligible : ndarray of bool
        The compliance mask.
    plans : dict of DataFrame
        ``seed_rules``, ``greedy`` and ``optimized`` plans (one row per case).
    summary : dict
        Per plan ``expected_net_recovery``, ``expected_recovery``, ``cost``, ``accounts``,
        ``constraints_satisfied``, ``violations``; plus ``upper_bound``, ``gap``,
        ``seconds`` and the limits.
    effects : DataFrame
        Naive and corrected mean recovery and cost per segment and action.
    insights : list of str
        Causal statements about actions, with intervals.
    capacity_use : DataFrame
        Accounts per action per plan against capacity.
    net_by_fold : ndarray of shape (n_folds, n_cases, n_actions), optional
        Each cross-fitting fold model's expected net recovery (the model uncertainty of an
        account's figures).
    """

    cases: pd.DataFrame
    expected_recovery: np.ndarray
    expected_cost: np.ndarray
    eligible: np.ndarray
    plans: dict[str, pd.DataFrame]
    summary: dict[str, Any]
    effects: pd.DataFrame
    insights: list[str]
    capacity_use: pd.DataFrame
    catalogue: Catalogue
    assignment: Assignment
    estimator: ActionEffectEstimator
    compliance: dict[str, ComplianceReport] = field(default_factory=dict)
    history_rows: int = 0
    history_note: str = ""
    net_by_fold: np.ndarray | None = None


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


def _case_segments(loan_ids: pd.Series, segments: pd.Series | None) -> np.ndarray:
    """The risk segment of each case (``Unsegmented`` where none is given)."""
    if segments is None:
        return np.full(len(loan_ids), UNSEGMENTED, dtype=object)
    lookup = segments[~segments.index.duplicated()]
    found = loan_ids.map(lookup).to_numpy(dtype=object)
    return np.where(pd.isna(found), UNSEGMENTED, found)


def risk_proxy(loans: pd.DataFrame, cases: pd.DataFrame, seed: int = 0) -> np.ndarray:
    """Default-risk score of the cases when the caller has none (the original rules need one).

    A logistic regression on the loan table's leakage-free target
    (:func:`loanrecovery.risk.resolve_target`); loans 90+ days past due score 1.
    """
    cols = [
        c
        for c in (
            "Days_Past_Due",
            "Outstanding_Loan_Amount",
            "Num_Missed_Payments",
            "Interest_Rate",
            "Monthly_EMI",
            "Monthly_Income",
            "Loan_Amount",
        )
        if c in loans.columns
    ]
    target = resolve_target(loans)
    dpd = pd.to_numeric(cases["Days_Past_Due"], errors="coerce").fillna(0).to_numpy()
    if target is None or not cols or target.trainable.sum() < 50:
        return np.clip(dpd / 180.0, 0.0, 1.0)
    X = loans[cols].apply(pd.to_numeric, errors="coerce").fillna(0.0)
    train = target.trainable
    y = target.values[train].astype(int)
    if len(np.unique(y)) < 2:
        return np.clip(dpd / 180.0, 0.0, 1.0)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=seed))
    model.fit(X.loc[train], y)
    Xc = cases[cols].apply(pd.to_numeric, errors="coerce").fillna(0.0)
    return np.where(dpd >= DEFAULT_DPD, 1.0, model.predict_proba(Xc)[:, 1])


def _reason(a: int, best: int, barred_best: int, opt_out: bool, names: tuple[str, ...]) -> str:
    if a < 0:
        return "no action: nothing allowed has positive expected net value within the limits"
    if a == best:
        text = "highest expected net recovery among allowed actions"
    else:
        text = (
            f"{names[best]} is worth more here but its capacity or the budget went to "
            "accounts where it gains more"
        )
    if opt_out:
        text += "; opted out: letters only"
    elif barred_best >= 0:
        text += f"; {names[barred_best]} would be worth more but the contact or legal rules bar it"
    return text


def _plan_frame(
    name: str,
    action: np.ndarray,
    cases: pd.DataFrame,
    rec: np.ndarray,
    cost: np.ndarray,
    eligible: np.ndarray,
    catalogue: Catalogue,
    reasons: np.ndarray | None = None,
) -> pd.DataFrame:
    names = np.array([*catalogue.names, "None"], dtype=object)
    rows = np.arange(len(action))
    acted = action >= 0
    safe = np.maximum(action, 0)
    value = np.where(eligible, rec - cost, -np.inf)
    best = np.argmax(value, axis=1)
    unmasked = np.argmax(rec - cost, axis=1)
    barred = np.where(eligible[rows, unmasked], -1, unmasked)
    attrs = case_attributes(cases)
    if reasons is None:
        opt = attrs["Contact_Opt_Out"].to_numpy()
        reasons = np.array(
            [
                _reason(int(action[i]), int(best[i]), int(barred[i]), bool(opt[i]), catalogue.names)
                for i in rows
            ],
            dtype=object,
        )
    chosen = names[np.where(acted, action, len(catalogue.names))]
    offsets = attrs["UTC_Offset"].to_numpy()
    hours = schedule_contacts(chosen, offsets, catalogue)
    return pd.DataFrame(
        {
            "Loan_ID": cases["Loan_ID"].to_numpy(),
            "Action": chosen,
            "Expected_Recovery": np.round(np.where(acted, rec[rows, safe], 0.0), 2),
            "Cost": np.round(np.where(acted, cost[rows, safe], 0.0), 2),
            "Expected_Net": np.round(np.where(acted, rec[rows, safe] - cost[rows, safe], 0.0), 2),
            "Reason": reasons,
            "Contact_Hour_UTC": hours,
            "Local_Hour": np.where(hours >= 0, (hours + offsets) % 24, -1),
            "Segment": cases["Segment"].to_numpy(),
            "DPD_Bucket": cases["DPD_Bucket"].to_numpy(),
            "Risk_Score": cases["Risk_Score"].to_numpy() if "Risk_Score" in cases else np.nan,
            "Policy": name,
        }
    )


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


def case_risks(
    loans: pd.DataFrame,
    cases: pd.DataFrame,
    risk_score: np.ndarray | pd.Series | None,
    segments: pd.Series | None,
    *,
    seed: int = 0,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The cases of :func:`case_values_by_fold` with their ``Risk_Score`` (rounded) and
    ``Segment``, and the unrounded default risk the rules read (see :func:`run_recovery`)."""
    if risk_score is None:
        risk = risk_proxy(loans, cases, seed)
    elif isinstance(risk_score, pd.Series):
        risk = cases["Loan_ID"].map(risk_score).fillna(0.0).to_numpy(float)
    else:
        risk = (
            pd.Series(np.asarray(risk_score, float), index=loans["Loan_ID"])
            .reindex(cases["Loan_ID"])
            .fillna(0.0)
            .to_numpy()
        )
    cases = cases.assign(
        Risk_Score=np.round(risk, 4), Segment=_case_segments(cases["Loan_ID"], segments)
    )
    return cases, np.asarray(risk, dtype=float)


def plan_recovery(
    cases: pd.DataFrame,
    risk: np.ndarray,
    rec: np.ndarray,
    cost: np.ndarray,
    net_folds: np.ndarray | None,
    *,
    effects: EffectsFit,
    budget: float | None = None,
    capacities: Mapping[str, float] | None = None,
    policy: StrategyPolicy | None = None,
    catalogue: Catalogue | None = None,
    challenger: StrategyPolicy | None = None,
    challenger_share: float = 0.0,
    seed: int = 0,
    started: float | None = None,
) -> RecoveryResult:
    """The book-wide step of :func:`run_recovery`: the three plans of the cases under one
    budget and the capacities, their checks and summary.

    Parameters
    ----------
    cases : DataFrame
        Every case of the book in loan-table order (:func:`case_values_by_fold` then
        :func:`case_risks`).
    risk : ndarray
        The unrounded default risk of each case (:func:`case_risks`).
    rec, cost : ndarray of shape (n_cases, n_actions)
        Expected recovery and cost (:func:`case_values_by_fold`).
    net_folds : ndarray of shape (n_folds, n_cases, n_actions), optional
    effects : EffectsFit
        The effects the values came from.
    budget, capacities, policy, catalogue, challenger, challenger_share, seed
        As :func:`run_recovery`.
    started : float, optional
        ``time.perf_counter()`` at the start of the work (for the summary's ``seconds``).

    Returns
    -------
    RecoveryResult
    """
    start = time.perf_counter() if started is None else started
    catalogue = catalogue if catalogue is not None else load_catalogue()
    policy = validate_policy(policy if policy is not None else load_policy(), catalogue)
    if challenger is not None:
        validate_policy(challenger, catalogue)
    est, n_history, history_note = effects.estimator, effects.history_rows, effects.history_note
    eligible = eligibility(cases, catalogue) & np.isfinite(rec)
    rec = np.nan_to_num(rec)
    value = rec - cost
    caps = catalogue.capacities(capacities)
    dpd = cases["Days_Past_Due"].to_numpy(float)
    ladder, _ = ladder_actions(policy, catalogue, risk, cases["Segment"].to_numpy(), dpd)
    seeded = seed_rules_assignment(ladder, risk, cost, eligible, caps, budget)
    greedy = greedy_assignment(value, cost, eligible, caps, budget)
    arms = np.zeros(len(cases), bool)
    if challenger is not None and challenger_share > 0:
        arms = assign_arms(cases["Loan_ID"].to_numpy(), challenger_share, seed)
    champ = ~arms
    share = arms.mean() if arms.any() else 0.0
    sub_budget = None if budget is None else budget * (1 - share)
    champ_caps = (
        np.where(np.isfinite(caps), np.floor(np.nan_to_num(caps, posinf=0) * (1 - share)), np.inf)
        if share
        else caps
    )
    sub = optimize_assignment(value[champ], cost[champ], eligible[champ], champ_caps, sub_budget)
    optimized = np.full(len(cases), -1)
    optimized[champ] = sub.action
    if challenger is not None and arms.any():
        finite = np.isfinite(caps)
        challenger_caps = np.where(
            finite, caps - np.floor(np.where(finite, caps, 0) * (1 - share)), np.inf
        )
        ch_ladder, _ = ladder_actions(
            challenger, catalogue, risk[arms], cases["Segment"].to_numpy()[arms], dpd[arms]
        )
        optimized[arms] = seed_rules_assignment(
            ch_ladder,
            risk[arms],
            cost[arms],
            eligible[arms],
            challenger_caps,
            None if budget is None else budget * share,
        )
    plans = {
        "seed_rules": _plan_frame(
            "seed_rules", seeded, cases, rec, cost, eligible, catalogue, reasons=None
        ),
        "greedy": _plan_frame("greedy", greedy, cases, rec, cost, eligible, catalogue),
        "optimized": _plan_frame("optimized", optimized, cases, rec, cost, eligible, catalogue),
    }
    plans["seed_rules"]["Reason"] = np.where(
        plans["seed_rules"]["Action"].eq(np.array([*catalogue.names, "None"])[ladder]),
        "original threshold rule",
        "original rule's action not allowed or full: next milder",
    )
    plans["optimized"]["Arm"] = np.where(arms, "challenger", "champion")
    if arms.any():
        plans["optimized"].loc[arms, "Reason"] = "challenger policy (random share)"
    compliance = {
        name: check_plan(plan, cases, catalogue, capacities=caps, budget=budget)
        for name, plan in plans.items()
    }
    summary: dict[str, Any] = {}
    for name, plan in plans.items():
        acted = plan["Action"] != "None"
        summary[name] = {
            "expected_net_recovery": round(float(plan["Expected_Net"].sum()), 2),
            "expected_recovery": round(float(plan["Expected_Recovery"].sum()), 2),
            "cost": round(float(plan["Cost"].sum()), 2),
            "accounts": int(acted.sum()),
            "constraints_satisfied": compliance[name].satisfied,
            "violations": compliance[name].violations,
        }
    summary.update(
        {
            "bound_scope": BOUND_CHAMPION_ARM if arms.any() else BOUND_ALL_ACCOUNTS,
            "optimized_champion_expected_net": round(sub.objective, 2),
            "upper_bound": round(sub.upper_bound, 2),
            "lp_relaxation": round(sub.lp_value, 2),
            "gap": sub.gap,
            "proven_optimal": sub.proven_optimal,
            "solver_seconds": round(sub.seconds, 3),
            "seconds": round(time.perf_counter() - start, 3),
            "constraints_satisfied": all(r.satisfied for r in compliance.values()),
            "budget": budget,
            "capacities": {
                n: (None if not np.isfinite(c) else float(c))
                for n, c in zip(catalogue.names, caps, strict=True)
            },
            "delinquent_loans": len(cases),
            "history_rows": n_history,
            "history": history_note,
            "challenger_share": float(share),
        }
    )
    use = pd.DataFrame({name: plan["Action"].value_counts() for name, plan in plans.items()})
    use = use.reindex(list(catalogue.names)).fillna(0).astype(int)
    use["capacity"] = [None if not np.isfinite(c) else float(c) for c in caps]
    use["capacity as stated"] = [
        _stated_capacity(action, capacities) for action in catalogue.actions
    ]
    return RecoveryResult(
        cases=cases,
        expected_recovery=rec,
        expected_cost=cost,
        eligible=eligible,
        plans=plans,
        summary=summary,
        effects=effects.effects,
        insights=list(effects.insights),
        capacity_use=use,
        catalogue=catalogue,
        assignment=sub,
        estimator=est,
        compliance=compliance,
        history_rows=n_history,
        history_note=history_note,
        net_by_fold=net_folds,
    )


def _stated_capacity(action: ActionSpec, overrides: Mapping[str, float] | None) -> str:
    """The capacity in the manager's units, e.g. "9,000 agent call minutes per day x 22 / 12
    per account"."""
    if overrides and action.name in overrides:
        return "set for this run (accounts)"
    if not math.isfinite(action.stated_capacity):
        return "no limit"
    text = f"{action.stated_capacity:,.0f} {action.capacity_unit}"
    if action.capacity_periods != 1:
        text += f" x {action.capacity_periods:g}"
    if action.units_per_account != 1:
        text += f" / {action.units_per_account:g} per account"
    return text


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
