"""Reading a book for import: the same files and the same contract as ``run``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from loanrecovery.contract import validate_collections, validate_loans, validate_panel
from loanrecovery.exceptions import NoValidRowsError
from loanrecovery.inputs import RunInputs, builtin_book, load_run_inputs

__all__ = ["ValidatedBook", "read_validated_book", "validate_inputs"]


@dataclass(frozen=True)
class ValidatedBook:
    """The accepted rows of each table, and the rejects as ``run`` writes them."""

    loans: pd.DataFrame
    payments: pd.DataFrame | None
    collections: pd.DataFrame | None
    rejects: dict[str, pd.DataFrame]
    rows_in: dict[str, int]
    source: str


def validate_inputs(inputs: RunInputs) -> ValidatedBook:
    """Validate the tables of a book against the data contract.

    Raises
    ------
    NoValidRowsError
        If no loan row passes the contract.
    """
    loans = validate_loans(inputs.loans, source=inputs.source)
    if loans.n_accepted == 0:
        raise NoValidRowsError(inputs.source, loans.rejects)
    rejects = {"loans": loans.rejects}
    rows_in = {"loans": loans.n_rows_in}
    payments = collections = None
    if inputs.payments is not None:
        panel = validate_panel(inputs.payments, loans.accepted, source="payments.csv")
        payments, rejects["payments"] = panel.accepted, panel.rejects
        rows_in["payments"] = panel.n_rows_in
    if inputs.collections is not None:
        history = validate_collections(
            inputs.collections, source="collections.csv", loan_ids=loans.accepted["Loan_ID"]
        )
        collections, rejects["collections"] = history.accepted, history.rejects
        rows_in["collections"] = history.n_rows_in
    return ValidatedBook(
        loans=loans.accepted,
        payments=payments,
        collections=collections,
        rejects=rejects,
        rows_in=rows_in,
        source=inputs.source,
    )


def read_validated_book(data: Path | None) -> ValidatedBook:
    """Read a folder or ``loans.csv`` (with ``payments.csv``/``collections.csv`` beside it),
    or the built-in book when ``data`` is None, and validate it."""
    inputs = builtin_book() if data is None else load_run_inputs(Path(data))
    return validate_inputs(inputs)
