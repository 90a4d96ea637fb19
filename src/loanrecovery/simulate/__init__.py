"""The portfolio simulator: a loan book with payments, collections and ground truth.

``simulate_portfolio`` draws borrowers and loans, runs them month by month (hidden
financial stress, job loss, payments, arrears, a legacy collection rule) and computes
the true default probabilities and counterfactual action outcomes by Monte-Carlo.
``write_book`` writes ``loans.csv``, ``payments.csv``, ``collections.csv`` and
``truth.json``. The generative story is described in ``docs/simulator.md``.
"""

from loanrecovery.simulate._book import SimulatedBook, SimulationParameterError, simulate_portfolio
from loanrecovery.simulate._io import BOOK_FILES, write_book

__all__ = [
    "BOOK_FILES",
    "SimulatedBook",
    "SimulationParameterError",
    "simulate_portfolio",
    "write_book",
]
