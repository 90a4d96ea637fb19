"""The reference plans obey the same limits as the optimizer."""

from __future__ import annotations

import numpy as np

from loanrecovery.recovery.baselines import greedy_assignment, seed_rules_assignment


def test_seed_rules_fall_back_to_milder_actions_when_full() -> None:
    ladder = np.array([2, 2, 2, 0])
    risk = np.array([0.9, 0.8, 0.95, 0.1])
    cost = np.tile([1.0, 5.0, 50.0], (4, 1))
    eligible = np.ones((4, 3), bool)
    eligible[1, 1] = False
    out = seed_rules_assignment(ladder, risk, cost, eligible, np.array([np.inf, 5, 2]), None)
    # the two riskiest (loans 2 and 0) take the 2 slots; loan 1 cannot have action 1 -> 0
    np.testing.assert_array_equal(out, [2, 0, 2, 0])


def test_seed_rules_stop_at_the_budget() -> None:
    ladder = np.array([1, 1, 1])
    cost = np.tile([1.0, 10.0], (3, 1))
    out = seed_rules_assignment(
        ladder,
        np.array([3, 2, 1.0]),
        cost,
        np.ones((3, 2), bool),
        np.array([np.inf, np.inf]),
        budget=11.5,
    )
    np.testing.assert_array_equal(out, [1, 0, -1])


def test_greedy_takes_best_pairs_first_within_capacity() -> None:
    value = np.array([[5.0, 9.0], [4.0, 8.0], [1.0, -2.0]])
    cost = np.ones((3, 2))
    out = greedy_assignment(value, cost, np.ones((3, 2), bool), np.array([np.inf, 1]), None)
    np.testing.assert_array_equal(out, [1, 0, 0])
