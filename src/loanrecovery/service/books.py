"""Reading a book for import: the same files, the same contract (``loanrecovery.contract.book``)
and the same rejects as ``run``."""

from __future__ import annotations

from pathlib import Path

from loanrecovery.contract.book import Book, read_book, validate_book
from loanrecovery.inputs import builtin_book

__all__ = ["read_validated_book"]


def read_validated_book(data: Path | None) -> Book:
    """Read a folder or ``loans.csv`` (with ``payments.csv``/``collections.csv`` beside it),
    or the built-in book when ``data`` is None, and validate it.

    Raises
    ------
    DataFileError
        If a file cannot be used, or no loan row passes the contract.
    """
    if data is not None:
        return read_book(Path(data))
    inputs = builtin_book()
    return validate_book(inputs.loans, inputs.payments, inputs.collections, source=inputs.source)
