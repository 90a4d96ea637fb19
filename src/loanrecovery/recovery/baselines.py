"""Reference policies under the same capacities, budget and compliance rules as the optimizer.

* ``seed_rules``: the original thresholds (the policy ladder of ``loanrecovery.strategy``).
  Loans are served from the riskiest down; a loan whose ladder action is not allowed or has
  run out of capacity or budget gets the next milder allowed action that still fits.
* ``greedy``: every (loan, action) pair by expected net value, best first, taken while the
  loan is free and capacity and budget remain.
"""

from __future__ import annotations

import numpy as np

__all__ = ["seed_rules_assignment", "greedy_assignment"]

NONE = -1


class _Limits:
    def __init__(self, capacity: np.ndarray, budget: float | None) -> None:
        self.left = np.asarray(capacity, dtype=float).copy()
        self.budget = np.inf if budget is None else float(budget)

    def fits(self, action: int, cost: float) -> bool:
        return self.left[action] >= 1 - 1e-9 and cost <= self.budget + 1e-9

    def take(self, action: int, cost: float) -> None:
        self.left[action] -= 1
        self.budget -= cost


def seed_rules_assignment(
    ladder_action: np.ndarray,
    risk_score: np.ndarray,
    cost: np.ndarray,
    eligible: np.ndarray,
    capacity: np.ndarray,
    budget: float | None = None,
) -> np.ndarray:
    """Action index per loan (-1 none) of the rule ladder under the limits.

    Parameters
    ----------
    ladder_action : ndarray of int
        Index of the action the ladder gives each loan (-1 for none).
    risk_score : ndarray
        Order of service: riskiest first.
    cost, eligible : ndarray of shape (n_loans, n_actions)
    capacity : ndarray of shape (n_actions,)
    budget : float, optional
    """
    limits = _Limits(capacity, budget)
    out = np.full(len(ladder_action), NONE)
    for i in np.argsort(-np.asarray(risk_score, dtype=float), kind="stable"):
        for a in range(int(ladder_action[i]), -1, -1):
            if eligible[i, a] and limits.fits(a, float(cost[i, a])):
                limits.take(a, float(cost[i, a]))
                out[i] = a
                break
    return out


def greedy_assignment(
    value: np.ndarray,
    cost: np.ndarray,
    eligible: np.ndarray,
    capacity: np.ndarray,
    budget: float | None = None,
) -> np.ndarray:
    """Action index per loan (-1 none): best net value first until limits run out."""
    limits = _Limits(capacity, budget)
    scored = np.where(eligible & (value > 0), value, -np.inf)
    loans, actions = np.nonzero(np.isfinite(scored))
    order = np.argsort(-scored[loans, actions], kind="stable")
    out = np.full(value.shape[0], NONE)
    for i, a in zip(loans[order], actions[order], strict=True):
        if out[i] == NONE and limits.fits(a, float(cost[i, a])):
            limits.take(a, float(cost[i, a]))
            out[i] = a
    return out
