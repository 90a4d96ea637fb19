"""The built-in book: ``simulate --loans 10000 --months 24 --seed 42``, validated."""

from __future__ import annotations

from loanrecovery.contract.book import Book, validate_book
from loanrecovery.simulate import simulate_portfolio

__all__ = ["builtin_book", "BUILTIN_BOOK", "BUILTIN_SOURCE"]

#: The built-in book: ``simulate --loans 10000 --months 24 --seed 42``.
BUILTIN_BOOK = {"n_loans": 10_000, "n_months": 24, "seed": 42}
#: How the built-in book is named in outputs.
BUILTIN_SOURCE = (
    "built-in book (simulate --loans {n_loans} --months {n_months} --seed {seed})".format(
        **BUILTIN_BOOK
    )
)


def builtin_book() -> Book:
    """Simulate the built-in 10,000-loan book (seed 42) in memory and validate it."""
    book = simulate_portfolio(
        n_loans=BUILTIN_BOOK["n_loans"],
        n_months=BUILTIN_BOOK["n_months"],
        seed=BUILTIN_BOOK["seed"],
        truth=False,
    )
    return validate_book(
        book.loans,
        book.payments,
        book.collections,
        source=BUILTIN_SOURCE,
        sources={"payments": "built-in payments", "collections": "built-in collections"},
    )
