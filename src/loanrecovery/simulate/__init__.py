"""The portfolio simulator: a loan book with payments, collections and ground truth.

``simulate_portfolio`` draws borrowers and loans, runs them month by month (hidden
financial stress, job loss, payments, arrears, a legacy collection rule) and computes
the true default probabilities and counterfactual action outcomes by Monte-Carlo.
``write_book`` writes ``loans.csv``, ``payments.csv``, ``collections.csv`` and
``truth.json``; ``write_parquet_book`` writes a large book as partitioned Parquet in
chunks (bounded memory). The generative story is described in ``docs/simulator.md``.
"""

from loanrecovery.simulate._book import SimulatedBook, SimulationParameterError, simulate_portfolio
from loanrecovery.simulate._io import BOOK_FILES, write_book
from loanrecovery.simulate._parquet import PARQUET_TABLES, write_parquet_book

__all__ = [
    "BOOK_FILES",
    "PARQUET_TABLES",
    "SimulatedBook",
    "SimulationParameterError",
    "simulate_portfolio",
    "write_book",
    "write_parquet_book",
]
