"""One small simulated book and one bundle fitted on it, shared by the bundle tests."""

from __future__ import annotations

import pytest

from loanrecovery.bundle import fit_with_report
from loanrecovery.contract.book import Book, validate_book
from loanrecovery.simulate import simulate_portfolio


@pytest.fixture(scope="session")
def sim_book() -> Book:
    book = simulate_portfolio(n_loans=1500, n_months=18, seed=3, truth=False)
    return validate_book(book.loans, book.payments, book.collections, source="simulated")


@pytest.fixture(scope="session")
def fitted(sim_book):
    return fit_with_report(sim_book)
