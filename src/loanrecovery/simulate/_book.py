"""`simulate_portfolio`: population, main path, output tables and ground truth."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loanrecovery.actions import ACTIONS
from loanrecovery.exceptions import LoanRecoveryError
from loanrecovery.simulate import _params as P
from loanrecovery.simulate._engine import run_main_path
from loanrecovery.simulate._population import generate_population
from loanrecovery.simulate._state import ACTIVE
from loanrecovery.simulate._tables import (
    collections_table,
    loans_table,
    payments_table,
    segment_labels,
)
from loanrecovery.simulate._truth import (
    DEFAULT_DRAWS,
    OUTCOME_DRAWS,
    PotentialOutcomes,
    default_probability,
    potential_outcomes,
)

logger = logging.getLogger(__name__)

Progress = Callable[[str, float], None]

__all__ = ["SimulatedBook", "SimulationParameterError", "simulate_portfolio"]


class SimulationParameterError(LoanRecoveryError, ValueError):
    """A simulation parameter is out of range."""


@dataclass(frozen=True)
class SimulatedBook:
    """A simulated loan book.

    Attributes
    ----------
    loans : DataFrame
        One row per loan observed in months 1..M (``loans.csv``).
    payments : DataFrame
        One row per loan and month it was active (``payments.csv``).
    collections : DataFrame
        One row per collection action (``collections.csv``).
    truth : dict
        Ground truth for evaluation only (``truth.json``).
    """

    loans: pd.DataFrame
    payments: pd.DataFrame
    collections: pd.DataFrame
    truth: dict[str, Any]


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or not low <= value <= high
    ):
        raise SimulationParameterError(
            f"The '{name}' parameter of simulate_portfolio must be an int in the range "
            f"[{low}, {high}]. Got {value!r} instead."
        )
    return int(value)


def _outcome_dict(po: PotentialOutcomes, keys: np.ndarray) -> dict[str, dict[str, list[float]]]:
    rec = np.round(po.recovery, 2)
    cost = np.round(po.cost, 2)
    return {
        str(key): {a: [float(rec[i, j]), float(cost[i, j])] for j, a in enumerate(ACTIONS)}
        for i, key in enumerate(keys)
    }


def _mc_error(po: PotentialOutcomes) -> dict[str, float]:
    """Summary of the Monte-Carlo error of the history outcomes (USD)."""
    if po.recovery.size == 0:
        return {}
    effect_se = po.net_effect_se[:, 1:]
    return {
        "median_recovery_se": round(float(np.median(po.recovery_se)), 2),
        "median_relative_recovery_se": round(
            float(np.median(po.recovery_se / np.maximum(po.recovery, 1.0))), 4
        ),
        "median_net_effect_vs_reminder_se": round(float(np.median(effect_se)), 2),
        "mean_net_effect_vs_reminder_se": round(float(effect_se.mean()), 2),
    }


def _risk_dict(po: PotentialOutcomes, keys: np.ndarray) -> dict[str, float]:
    """P(90+ DPD within 6 months) if the mildest action is taken now (baseline risk)."""
    ref = ACTIONS.index("Automated Reminder")
    return {str(k): round(float(p), 4) for k, p in zip(keys, po.default_6m[:, ref], strict=True)}


def _action_effects(po: PotentialOutcomes, segments: np.ndarray) -> dict[str, Any]:
    """Per segment and action: true mean recovery, cost, net, and effects vs the reminder."""
    out: dict[str, Any] = {}
    ref = ACTIONS.index("Automated Reminder")
    for seg in sorted(set(segments.tolist())):
        mask = segments == seg
        rec = po.recovery[mask].mean(axis=0)
        cost = po.cost[mask].mean(axis=0)
        net = rec - cost
        out[seg] = {
            a: {
                "n_actions": int(mask.sum()),
                "mean_recovery": round(float(rec[j]), 2),
                "mean_cost": round(float(cost[j]), 2),
                "mean_net": round(float(net[j]), 2),
                "recovery_effect_vs_reminder": round(float(rec[j] - rec[ref]), 2),
                "net_effect_vs_reminder": round(float(net[j] - net[ref]), 2),
            }
            for j, a in enumerate(ACTIONS)
        }
    return out


def simulate_portfolio(
    n_loans: int = 10000,
    n_months: int = 24,
    seed: int = 42,
    *,
    default_draws: int = DEFAULT_DRAWS,
    outcome_draws: int = OUTCOME_DRAWS,
    truth: bool = True,
    progress: Progress | None = None,
) -> SimulatedBook:
    """Simulate a loan book of ``n_loans`` loans observed for ``n_months`` months.

    Parameters
    ----------
    n_loans : int, default 10000
        Loans observed in months 1..n_months (seasoned and newly originated).
    n_months : int, default 24
        Observed months; the snapshot is the end of month ``n_months``.
    seed : int, default 42
        Seed of every random draw; the same seed gives identical output.
    default_draws : int, default 200
        Monte-Carlo draws per loan for ``truth['default_probability']``.
    outcome_draws : int, default 96
        Monte-Carlo draws per decision for ``truth['potential_outcomes']``.
    truth : bool, default True
        Compute the Monte-Carlo ground truth (most of the run time). With False,
        ``book.truth`` holds only the seed and sizes; the tables are identical.
    progress : callable, optional
        Called as ``progress(stage, fraction_done)``.

    Returns
    -------
    SimulatedBook
    """
    n_loans = _check_int("n_loans", n_loans, 1, 5_000_000)
    n_months = _check_int("n_months", n_months, 1, 600)
    seed = _check_int("seed", seed, 0, 2**63 - 1)
    default_draws = _check_int("default_draws", default_draws, 1, 100_000)
    outcome_draws = _check_int("outcome_draws", outcome_draws, 1, 100_000)
    seeds = np.random.SeedSequence(seed).spawn(5)
    streams = [np.random.default_rng(s) for s in seeds[:2]]

    pop = generate_population(streams[0], n_loans, n_months)
    path = run_main_path(pop, n_months, streams[1], progress)
    loan_ids = pop.static["Loan_ID"].to_numpy()
    collections = collections_table(path, loan_ids)
    payments = payments_table(path, n_months, loan_ids)
    loans = loans_table(pop.static, path, collections, n_months)
    logger.info(
        "main path: %d loans, %d payments, %d actions", len(loans), len(payments), len(collections)
    )

    header: dict[str, Any] = {
        "seed": seed,
        "n_loans": n_loans,
        "n_months": n_months,
        "currency": "USD",
        "default_horizon_months": P.DEFAULT_HORIZON,
        "recovery_horizon_months": P.RECOVERY_HORIZON,
    }
    if not truth:
        return SimulatedBook(loans=loans, payments=payments, collections=collections, truth=header)
    active = np.flatnonzero(path.snapshot.status == ACTIVE)
    p_default = default_probability(path.snapshot, active, seeds[2], default_draws, progress)
    history = potential_outcomes(
        path.events.state, seeds[3], outcome_draws, progress, "history outcomes"
    )
    pre = path.snapshot_pre_action
    delinquent = np.flatnonzero((pre.status == ACTIVE) & (pre.cycles >= 1))
    snap_po = potential_outcomes(
        pre.take(delinquent), seeds[4], outcome_draws, progress, "snapshot outcomes"
    )

    segments = segment_labels(path.events.cycles, path.events.state.secured)
    truth_dict: dict[str, Any] = {
        **header,
        "default_draws": default_draws,
        "outcome_draws": outcome_draws,
        "default_probability": {
            str(loan_ids[i]): round(float(p), 4) for i, p in zip(active, p_default, strict=True)
        },
        "potential_outcomes": {
            "actions": list(ACTIONS),
            "value_layout": ["expected_recovery", "expected_cost"],
            "history": _outcome_dict(history, collections["Action_ID"].to_numpy()),
            "snapshot": _outcome_dict(snap_po, loan_ids[delinquent]),
            "monte_carlo_standard_error": _mc_error(history),
            "risk_6m": {
                "history": _risk_dict(history, collections["Action_ID"].to_numpy()),
                "snapshot": _risk_dict(snap_po, loan_ids[delinquent]),
            },
        },
        "action_effects": _action_effects(history, segments),
        "legacy_propensity": {
            str(key): [round(float(v), 4) for v in row]
            for key, row in zip(
                collections["Action_ID"].to_numpy(), path.events.propensity, strict=True
            )
        },
    }
    return SimulatedBook(loans=loans, payments=payments, collections=collections, truth=truth_dict)
