"""Gathering the inputs of ``run``: a loan table, and the collection history and payment
panel when they sit beside it (the simulator's folder layout) or are named explicitly."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from loanrecovery.contract import apply_mapping, load_mapping
from loanrecovery.io import read_table

__all__ = ["RunInputs", "load_run_inputs", "builtin_book", "BUILTIN_BOOK"]

logger = logging.getLogger(__name__)

#: The built-in book: ``simulate --loans 10000 --months 24 --seed 42``.
BUILTIN_BOOK = {"n_loans": 10_000, "n_months": 24, "seed": 42}


@dataclass
class RunInputs:
    """The tables a run works on."""

    loans: pd.DataFrame
    source: str
    payments: pd.DataFrame | None = None
    collections: pd.DataFrame | None = None


def builtin_book() -> RunInputs:
    """Simulate the built-in 10,000-loan book (seed 42) in memory."""
    from loanrecovery.simulate import simulate_portfolio

    book = simulate_portfolio(
        n_loans=BUILTIN_BOOK["n_loans"],
        n_months=BUILTIN_BOOK["n_months"],
        seed=BUILTIN_BOOK["seed"],
        truth=False,
    )
    source = "built-in book (simulate --loans {n_loans} --months {n_months} --seed {seed})".format(
        **BUILTIN_BOOK
    )
    return RunInputs(
        loans=book.loans, source=source, payments=book.payments, collections=book.collections
    )


def _sibling(folder: Path, name: str) -> Path | None:
    for suffix in (".csv", ".parquet", ".csv.gz"):
        candidate = folder / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def load_run_inputs(
    data: Path,
    *,
    mapping: Path | None = None,
    delimiter: str | None = None,
    payments: Path | None = None,
    collections: Path | None = None,
) -> RunInputs:
    """Read a loan file, or a folder holding ``loans.csv`` (+ ``payments.csv``,
    ``collections.csv``) as the simulator writes it.

    A file named ``loans.*`` also picks up ``payments.*`` and ``collections.*`` beside it.
    """
    data = Path(data)
    folder: Path | None = None
    if data.is_dir():
        folder = data
        found = _sibling(data, "loans")
        if found is None:
            from loanrecovery.exceptions import DataFileError

            raise DataFileError(data, "folder has no loans.csv or loans.parquet")
        data = found
    elif data.name.startswith("loans."):
        folder = data.parent
    loans = read_table(data, as_text=True, delimiter=delimiter)
    if mapping is not None:
        loans = apply_mapping(loans, load_mapping(mapping))
    if folder is not None:
        payments = payments or _sibling(folder, "payments")
        collections = collections or _sibling(folder, "collections")
    panel = read_table(payments) if payments is not None else None
    history = read_table(collections) if collections is not None else None
    for name, path in (("payment panel", payments), ("collection history", collections)):
        if path is not None:
            logger.info("using %s %s", name, path)
    return RunInputs(loans=loans, source=str(data), payments=panel, collections=history)
