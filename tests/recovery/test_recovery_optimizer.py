"""The optimizer against a direct MILP of the whole problem, its bound and its limits."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from loanrecovery.recovery.optimizer import optimize_assignment, plan_value


def _instance(seed: int, n: int = 300, k: int = 5):
    rng = np.random.default_rng(seed)
    balance = rng.lognormal(7, 0.8, n)
    value = balance[:, None] * rng.uniform(-0.05, 0.3, (n, k))
    cost = np.broadcast_to(np.array([1.0, 10, 40, 80, 300])[:k], (n, k)).copy()
    eligible = rng.random((n, k)) > 0.1
    capacity = np.array([np.inf, 60, 40, 25, 10])[:k]
    budget = 0.25 * cost.sum() / k
    return value, cost, eligible, capacity, budget


def _direct_milp(value, cost, eligible, capacity, budget) -> float:
    loans, acts = np.nonzero(eligible)
    m = loans.size
    n, k = value.shape
    rows = [
        sparse.csr_matrix((np.ones(m), (loans, np.arange(m))), shape=(n, m)),
        sparse.csr_matrix((np.ones(m), (acts, np.arange(m))), shape=(k, m)),
        sparse.csr_matrix(cost[loans, acts][None, :]),
    ]
    upper = np.concatenate([np.ones(n), np.where(np.isfinite(capacity), capacity, 1e9), [budget]])
    res = milp(
        -value[loans, acts],
        integrality=np.ones(m),
        bounds=Bounds(0, 1),
        constraints=LinearConstraint(sparse.vstack(rows), -np.inf, upper),
        options={"mip_rel_gap": 1e-9},
    )
    return -float(res.fun)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_direct_milp_and_respects_limits(seed) -> None:
    value, cost, eligible, capacity, budget = _instance(seed)
    result = optimize_assignment(value, cost, eligible, capacity, budget)
    best = _direct_milp(value, cost, eligible, capacity, budget)
    assert result.objective == pytest.approx(best, rel=1e-6)
    assert result.upper_bound >= best - 1e-6
    assert result.gap == pytest.approx((result.upper_bound - result.objective) / result.upper_bound)
    acted = result.action >= 0
    assert eligible[np.flatnonzero(acted), result.action[acted]].all()
    counts = np.bincount(result.action[acted], minlength=value.shape[1])
    assert (counts <= capacity).all()
    assert cost[np.flatnonzero(acted), result.action[acted]].sum() <= budget + 1e-6
    assert plan_value(value, result.action) == pytest.approx(result.objective)


def test_same_input_same_plan() -> None:
    args = _instance(5)
    first = optimize_assignment(*args)
    second = optimize_assignment(*args)
    np.testing.assert_array_equal(first.action, second.action)


def test_no_limits_gives_every_loan_its_best_positive_action() -> None:
    value, cost, eligible, _, _ = _instance(3)
    result = optimize_assignment(value, cost, eligible, np.full(value.shape[1], np.inf), None)
    masked = np.where(eligible, value, -np.inf)
    expected = np.where(masked.max(axis=1) > 0, masked.argmax(axis=1), -1)
    np.testing.assert_array_equal(result.action, expected)
    assert result.gap == pytest.approx(0.0, abs=1e-12)


def test_shape_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="same shape"):
        optimize_assignment(np.zeros((3, 2)), np.zeros((3, 3)), np.ones((3, 2), bool), np.ones(2))
