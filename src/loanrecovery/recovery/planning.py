"""The recovery plans of a book's cases: :func:`plan_recovery`, the book-wide step of
:func:`~loanrecovery.recovery.runner.run_recovery` (one budget and the capacities over
every case), with the result it returns.

Split from :mod:`loanrecovery.recovery.runner` so that a book applied in parts (``apply
--engine dask``) can gather its cases and plan them at once with the same function.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from loanrecovery.delinquency import DEFAULT_DPD
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
from loanrecovery.recovery.optimizer import Assignment, optimize_assignment
from loanrecovery.recovery.policy import ladder_actions, validate_policy
from loanrecovery.risk import resolve_target
from loanrecovery.segmentation import UNSEGMENTED
from loanrecovery.strategy import StrategyPolicy, load_policy

if TYPE_CHECKING:
    from loanrecovery.recovery.runner import EffectsFit

__all__ = [
    "RecoveryResult",
    "BOUND_ALL_ACCOUNTS",
    "BOUND_CHAMPION_ARM",
    "case_risks",
    "plan_recovery",
    "risk_proxy",
]

#: What the optimizer's bound covers (``bound_scope``): with a challenger arm, only the
#: champion arm is optimized.
BOUND_ALL_ACCOUNTS = "all accounts"
BOUND_CHAMPION_ARM = "champion arm"


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


def case_risks(
    loans: pd.DataFrame,
    cases: pd.DataFrame,
    risk_score: np.ndarray | pd.Series | None,
    segments: pd.Series | None,
    *,
    seed: int = 0,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The cases of :func:`~loanrecovery.recovery.runner.case_values_by_fold` with their
    ``Risk_Score`` (rounded) and ``Segment``, and the unrounded default risk the rules read
    (see :func:`~loanrecovery.recovery.runner.run_recovery`)."""
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
    """The book-wide step of :func:`~loanrecovery.recovery.runner.run_recovery`: the three
    plans of the cases under one budget and the capacities, their checks and summary.

    Parameters
    ----------
    cases : DataFrame
        Every case of the book in loan-table order
        (:func:`~loanrecovery.recovery.runner.case_values_by_fold`, then :func:`case_risks`).
    risk : ndarray
        The unrounded default risk of each case (:func:`case_risks`).
    rec, cost : ndarray of shape (n_cases, n_actions)
        Expected recovery and cost (:func:`~loanrecovery.recovery.runner.values_by_fold`).
    net_folds : ndarray of shape (n_folds, n_cases, n_actions), optional
    effects : EffectsFit
        The effects the values came from.
    budget, capacities, policy, catalogue, challenger, challenger_share, seed
        As :func:`~loanrecovery.recovery.runner.run_recovery`.
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
