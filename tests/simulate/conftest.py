"""Small simulated books shared by the simulator tests (built once per session)."""

from __future__ import annotations

import pytest

from loanrecovery.simulate import SimulatedBook, simulate_portfolio


@pytest.fixture(scope="session")
def small_book() -> SimulatedBook:
    """300 loans x 12 months, few Monte-Carlo draws (structure tests)."""
    return simulate_portfolio(300, 12, seed=7, default_draws=32, outcome_draws=8)


@pytest.fixture(scope="session")
def medium_book() -> SimulatedBook:
    """3000 loans x 24 months (rates and calibration)."""
    return simulate_portfolio(3000, 24, seed=11, default_draws=64, outcome_draws=4)
