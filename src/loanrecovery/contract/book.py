"""The validated book: loans, payments and collections, checked once against the contract.

Every later stage takes a :class:`Book` and trusts its types: nothing re-reads, re-types or
re-validates a table. Every input row ends in exactly one place: for each table, rows in =
rows accepted + rows rejected (:meth:`Book.counts`).

Typical use::

    book = read_book("data/")                       # loans.csv (+ payments.csv, collections.csv)
    book = validate_book(loans, payments, collections, source="my frames")
    book.loans, book.payments, book.collections      # typed, validated
    book.rejects["payments"]                          # Loan_ID, Row, Column, Value, Reason
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from loanrecovery.contract.collections import validate_collections
from loanrecovery.contract.mapping import apply_mapping, load_mapping
from loanrecovery.contract.payments import month_index, validate_panel
from loanrecovery.contract.trusted import trusted_collections, trusted_loans, trusted_panel
from loanrecovery.contract.validate import REJECT_COLUMNS, validate_loans
from loanrecovery.exceptions import DataFileError
from loanrecovery.io import read_table

__all__ = ["Book", "validate_book", "read_book", "find_book_files", "TABLES", "BookFiles"]

logger = logging.getLogger(__name__)

#: The tables of a book, in the order they are validated.
TABLES: tuple[str, ...] = ("loans", "payments", "collections")
_SUFFIXES = (".csv", ".parquet", ".csv.gz")


def _empty_rejects() -> pd.DataFrame:
    return pd.DataFrame(columns=REJECT_COLUMNS)


@dataclass(frozen=True)
class Book:
    """A loan book validated once.

    Attributes
    ----------
    loans : DataFrame
        Accepted loans, typed, contract columns first (one row per ``Loan_ID``).
    payments : DataFrame or None
        Accepted payment-panel rows (``Loan_ID, Row, Month, Amount_Due, Amount_Paid,
        Days_Past_Due, Outstanding_Balance``), ``Month`` an integer month index, sorted by
        loan then month; only loans of ``loans``.
    collections : DataFrame or None
        Accepted collection-history rows, typed; only loans of ``loans``.
    rejects : mapping of str to DataFrame
        Rejected rows of each table (``Loan_ID, Row, Column, Value, Reason``).
    rows_in : mapping of str to int
        Rows read of each table (malformed records included).
    source : str
        Where the book came from, for messages.
    sources : mapping of str to str
        The file (or description) of each table.
    as_of : int or None
        Month index of the snapshot: the loans' latest ``Snapshot_Month``, else the last
        month of the payment panel, else None.
    """

    loans: pd.DataFrame
    payments: pd.DataFrame | None = None
    collections: pd.DataFrame | None = None
    rejects: Mapping[str, pd.DataFrame] = field(default_factory=lambda: MappingProxyType({}))
    rows_in: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    source: str = "book"
    sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    as_of: int | None = None

    def table(self, name: str) -> pd.DataFrame | None:
        """The accepted rows of table ``name`` (one of :data:`TABLES`)."""
        if name not in TABLES:
            raise KeyError(f"unknown table {name!r}; expected one of {list(TABLES)}")
        return getattr(self, name)  # type: ignore[no-any-return]

    def counts(self) -> dict[str, dict[str, int]]:
        """Rows in, accepted and rejected of each table present."""
        out = {}
        for name in TABLES:
            frame = self.table(name)
            if frame is None:
                continue
            rejected = self.rejects.get(name)
            n_rejected = 0 if rejected is None else int(rejected["Row"].nunique())
            out[name] = {
                "in": int(self.rows_in.get(name, len(frame) + n_rejected)),
                "accepted": len(frame),
                "rejected": n_rejected,
            }
        return out

    def fingerprint(self) -> str:
        """SHA-256 of the accepted rows of every table (row order does not matter)."""
        digest = hashlib.sha256()
        for name in TABLES:
            frame = self.table(name)
            if frame is None:
                continue
            hashed = pd.util.hash_pandas_object(
                frame.drop(columns="Row", errors="ignore"), index=False
            )
            digest.update(name.encode())
            digest.update(np.sort(hashed.to_numpy()).tobytes())
        return digest.hexdigest()

    @classmethod
    def from_trusted(
        cls,
        loans: Sequence[Mapping[str, Any]],
        payments: Iterable[Sequence[Any]] | None = None,
        collections: Iterable[Sequence[Any]] | None = None,
        *,
        source: str = "trusted rows",
    ) -> Book:
        """A book of rows the contract already accepted (e.g. read back from the service's
        database), typed as :func:`validate_book` types them but not checked again.

        Parameters
        ----------
        loans : sequence of mappings
            Accepted loan rows, canonical column names.
        payments : iterable of tuples, optional
            Panel rows ``(Loan_ID, Month, Amount_Due, Amount_Paid, Days_Past_Due,
            Outstanding_Balance)`` of those loans
            (:data:`~loanrecovery.contract.trusted.PANEL_ROW`).
        collections : iterable of tuples, optional
            Collection actions ``(Loan_ID, Month, Action, Cost, Recovered_Amount)``.
        source : str
            Where the rows came from, for messages.

        Returns
        -------
        Book
            Nothing rejected (``rejects`` is empty); ``rows_in`` counts the rows given.
        """
        accepted = trusted_loans(loans)
        panel = None if payments is None else trusted_panel(payments)
        history = None if collections is None else trusted_collections(collections)
        counts = {"loans": len(accepted)}
        if panel is not None:
            counts["payments"] = len(panel)
        if history is not None:
            counts["collections"] = len(history)
        snapshot = [] if "Snapshot_Month" not in accepted else accepted["Snapshot_Month"].tolist()
        as_of: int | None
        if snapshot and all(type(v) is int for v in snapshot):
            as_of = max(snapshot)  # month indices already: what month_index gives
        else:
            as_of = _as_of(accepted, panel)
        return cls(
            loans=accepted,
            payments=panel,
            collections=history,
            rows_in=MappingProxyType(counts),
            source=source,
            as_of=as_of,
        )

    def account(self, loan_id: str) -> Book:
        """The book of one account (its loan, payments and collections), for quick checks."""
        loans = self.loans.loc[self.loans["Loan_ID"] == loan_id].reset_index(drop=True)

        def rows(frame: pd.DataFrame | None) -> pd.DataFrame | None:
            if frame is None:
                return None
            return frame.loc[frame["Loan_ID"] == loan_id].reset_index(drop=True)

        return Book(
            loans=loans,
            payments=rows(self.payments),
            collections=rows(self.collections),
            source=f"{self.source} (account {loan_id})",
            as_of=self.as_of,
        )


def _as_of(loans: pd.DataFrame, payments: pd.DataFrame | None) -> int | None:
    if "Snapshot_Month" in loans.columns and len(loans):
        months = month_index(loans["Snapshot_Month"])
        if months.notna().any():
            return int(months.max())
    if payments is not None and len(payments):
        return int(payments["Month"].max())
    return None


def validate_book(
    loans: pd.DataFrame,
    payments: pd.DataFrame | None = None,
    collections: pd.DataFrame | None = None,
    *,
    source: str = "book",
    sources: Mapping[str, str] | None = None,
    decimal: str = ".",
) -> Book:
    """Validate the three tables of a book against the contract, once.

    Parameters
    ----------
    loans : DataFrame
        The loan table as read (text or typed).
    payments : DataFrame, optional
        The monthly payment panel (``payments.csv`` layout).
    collections : DataFrame, optional
        The collection history (``collections.csv`` layout).
    source : str, default="book"
        Where the book came from, for messages.
    sources : mapping, optional
        The file of each table (``loans``, ``payments``, ``collections``), for messages.
    decimal : {".", ","}, default="."
        The decimal mark of the tables' numbers (``","``: ``"215.422,00"`` is 215422.0).

    Returns
    -------
    Book

    Raises
    ------
    DataFileError
        A whole-table problem: a required column missing, an empty panel.
    NoValidRowsError
        Not raised here: a book may have no accepted loan; callers that need one check
        ``len(book.loans)``.
    """
    names = {"loans": source, "payments": "payments", "collections": "collections"}
    names.update(dict(sources or {}))
    loan_check = validate_loans(loans, source=names["loans"], decimal=decimal)
    accepted = loan_check.accepted
    rejects = {"loans": loan_check.rejects}
    rows_in = {"loans": loan_check.n_rows_in}
    panel = None
    if payments is not None:
        checked = validate_panel(payments, accepted, source=names["payments"], decimal=decimal)
        panel, rejects["payments"], rows_in["payments"] = (
            checked.accepted,
            checked.rejects,
            checked.n_rows_in,
        )
    history = None
    if collections is not None:
        checked_history = validate_collections(
            collections,
            source=names["collections"],
            loan_ids=accepted["Loan_ID"],
            as_of=_as_of(accepted, None),
            decimal=decimal,
        )
        history = checked_history.accepted
        rejects["collections"] = checked_history.rejects
        rows_in["collections"] = checked_history.n_rows_in
    return Book(
        loans=accepted,
        payments=panel,
        collections=history,
        rejects=MappingProxyType(rejects),
        rows_in=MappingProxyType(rows_in),
        source=source,
        sources=MappingProxyType(names),
        as_of=_as_of(accepted, panel),
    )


@dataclass(frozen=True)
class BookFiles:
    """The files of a book: a loan table and, when found or named, its panel and history."""

    loans: Path
    payments: Path | None = None
    collections: Path | None = None


def _sibling(folder: Path, name: str) -> Path | None:
    """``name.csv``, ``name.parquet`` (a file or a Parquet folder) or ``name.csv.gz``."""
    for suffix in _SUFFIXES:
        candidate = folder / f"{name}{suffix}"
        if candidate.is_file() or (suffix == ".parquet" and candidate.is_dir()):
            return candidate
    return None


def find_book_files(
    data: str | Path, *, payments: str | Path | None = None, collections: str | Path | None = None
) -> BookFiles:
    """Resolve a data path: a loan file, or a folder holding ``loans.csv`` (the simulator's
    layout) with ``payments.csv`` and ``collections.csv`` beside it. A table may also be a
    Parquet folder of part files (``loans.parquet/part-00000.parquet``, the layout of
    ``simulate --format parquet``).

    A file named ``loans.*`` also picks up ``payments.*`` and ``collections.*`` beside it;
    files named explicitly take precedence.

    Raises
    ------
    DataFileError
        The path does not exist, or a folder holds no loan table.
    """
    data = Path(data)
    folder: Path | None = None
    if data.is_dir() and not data.name.startswith("loans."):
        folder = data
        found = _sibling(data, "loans")
        if found is None:
            raise DataFileError(data, "folder has no loans.csv or loans.parquet")
        data = found
    elif not data.exists():
        raise DataFileError(data, "file not found")
    elif data.name.startswith("loans."):
        folder = data.parent
    pay = Path(payments) if payments is not None else None
    hist = Path(collections) if collections is not None else None
    if folder is not None:
        pay = pay or _sibling(folder, "payments")
        hist = hist or _sibling(folder, "collections")
    return BookFiles(loans=data, payments=pay, collections=hist)


def read_book(
    data: str | Path,
    *,
    mapping: str | Path | None = None,
    delimiter: str | None = None,
    payments: str | Path | None = None,
    collections: str | Path | None = None,
    decimal: str = ".",
) -> Book:
    """Read and validate a book from files (see :func:`find_book_files`).

    Parameters
    ----------
    data : path
        A loan file (CSV/Parquet) or a folder with ``loans.csv``.
    mapping : path, optional
        A mapping file (your column names onto the canonical ones) for the loan table.
    delimiter : str, optional
        CSV delimiter of the loan table.
    payments, collections : path, optional
        The payment panel and collection history, when not beside the loan table.
    decimal : {".", ","}, default="."
        The decimal mark of the files' numbers. With ``","`` every table is read as text, so
        that ``"1.234"`` is one thousand two hundred and thirty-four, not 1.234.

    Returns
    -------
    Book
    """
    files = find_book_files(data, payments=payments, collections=collections)
    loans = read_table(files.loans, as_text=True, delimiter=delimiter)
    if mapping is not None:
        loans = apply_mapping(loans, load_mapping(mapping))
    tables: dict[str, Any] = {}
    for name in ("payments", "collections"):
        path = getattr(files, name)
        if path is not None:
            logger.info("using %s %s", name, path)
            tables[name] = read_table(path, as_text=decimal != ".")
    return validate_book(
        loans,
        tables.get("payments"),
        tables.get("collections"),
        source=str(files.loans),
        sources={
            name: str(getattr(files, name)) for name in TABLES if getattr(files, name) is not None
        },
        decimal=decimal,
    )
