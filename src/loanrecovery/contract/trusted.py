"""Tables from rows that already passed the contract (e.g. stored by the service's import),
typed as :func:`~loanrecovery.contract.book.validate_book` types them, without checking them
again.

Checking a single account's raw rows costs about a hundred times what scoring it does; rows
read back from a database that only ever stored accepted rows need the types, not the checks.
Nothing here rejects a row: give only rows the contract accepted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from loanrecovery.contract.schema import LOAN_SPECS, Kind

__all__ = [
    "trusted_loans",
    "trusted_row",
    "trusted_panel",
    "trusted_panel_arrays",
    "trusted_collections",
    "trusted_history_arrays",
    "PANEL_ROW",
    "HISTORY_ROW",
]

#: The fields of one stored panel row, in order (``payments.csv`` layout without ``Row``).
PANEL_ROW = ("Loan_ID", "Month", "Amount_Due", "Amount_Paid", "Days_Past_Due",
             "Outstanding_Balance")  # fmt: skip
#: The fields of one stored collection action, in order.
HISTORY_ROW = ("Loan_ID", "Month", "Action", "Cost", "Recovered_Amount")
_FLOATS = PANEL_ROW[2:]


_SPECS = {spec.name: spec for spec in LOAN_SPECS}
_ORDER = {spec.name: i for i, spec in enumerate(LOAN_SPECS)}


def _typed(kind: Kind, nullable: bool, values: list[Any]) -> Any:
    """One column's values as ``validate_loans`` types them."""
    if kind is Kind.INTEGER:
        return pd.array(values, dtype="Int64") if nullable else np.array(values, dtype=np.int64)
    if kind is Kind.NUMBER:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    return np.array(values, dtype=object)


def trusted_loans(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Accepted loan rows (canonical names) as ``validate_loans`` types them: contract
    columns first, in contract order (integers ``int64``, or ``Int64`` when the column may be
    empty; numbers ``float64``; levels and text as objects), then the other columns as given.

    Raises
    ------
    ValueError, TypeError
        A contract number that is not a number (the rows were not accepted rows).
    """
    columns: list[str] = list(dict.fromkeys(name for row in rows for name in row))
    names = sorted((c for c in columns if c in _SPECS), key=_ORDER.__getitem__)
    data: dict[str, Any] = {}
    for name in names:
        spec = _SPECS[name]
        data[name] = _typed(spec.kind, spec.nullable, [row.get(name) for row in rows])
    for name in columns:
        if name not in _SPECS:
            data[name] = [row.get(name) for row in rows]  # inferred, as a frame of the rows
    return pd.DataFrame(data, index=pd.RangeIndex(len(rows)))


def _typed_value(kind: Kind, nullable: bool, value: Any) -> Any:
    """One value as it reads back from :func:`trusted_loans`' frame (``to_numpy(object)``)."""
    if kind is Kind.INTEGER:
        if value is None or value is pd.NA:
            if not nullable:
                raise TypeError("an integer column that may not be empty holds no value")
            return pd.NA
        return int(value)
    if kind is Kind.NUMBER:
        return math.nan if value is None else float(value)
    return value


def trusted_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """One accepted loan row typed as one row of :func:`trusted_loans` reads back
    (``frame.to_numpy(dtype=object)[0]``), without building a frame: the one-account path
    of the service, where a frame per account would cost more than scoring it.

    Raises
    ------
    ValueError, TypeError
        A contract number that is not a number (the row was not an accepted row).
    """
    names = sorted((c for c in row if c in _SPECS), key=_ORDER.__getitem__)
    out: dict[str, Any] = {}
    for name in names:
        spec = _SPECS[name]
        out[name] = _typed_value(spec.kind, spec.nullable, row[name])
    for name in row:
        if name not in _SPECS:
            out[name] = row[name]
    return out


def trusted_panel_arrays(rows: Sequence[Sequence[Any]]) -> dict[str, np.ndarray] | None:
    """One loan's stored panel rows (:data:`PANEL_ROW` each) as the one-account path reads
    them: ``Month`` int64 and the amounts float64, by month; None when there are none."""
    if not len(rows):
        return None
    _, month, *amounts = _columns(rows, len(PANEL_ROW))
    months = np.array(month, dtype=np.int64)
    order = np.argsort(months, kind="stable")
    out: dict[str, np.ndarray] = {"Month": months[order]}
    for name, values in zip(_FLOATS, amounts, strict=True):
        out[name] = np.array(values, dtype=np.float64)[order]
    return out


def trusted_history_arrays(rows: Sequence[Sequence[Any]]) -> dict[str, np.ndarray] | None:
    """One loan's stored collection actions (:data:`HISTORY_ROW` each), ``Month`` and
    ``Action`` as the one-account path reads them, in the order given; None when there are
    none."""
    if not len(rows):
        return None
    _, month, action, _cost, _recovered = _columns(rows, len(HISTORY_ROW))
    return {"Month": np.array(month, dtype=np.int64), "Action": np.array(action, dtype=object)}


def _columns(rows: Iterable[Sequence[Any]], width: int) -> list[tuple[Any, ...]]:
    listed = [tuple(r) for r in rows]
    return list(zip(*listed, strict=True)) if listed else [()] * width


def trusted_panel(rows: Iterable[Sequence[Any]]) -> pd.DataFrame:
    """Stored panel rows (:data:`PANEL_ROW` each) as ``validate_panel`` types them: ``Loan_ID``
    as string, ``Row`` numbered from 2, ``Month`` int64, amounts float64, sorted by loan then
    month."""
    loan, month, *amounts = _columns(rows, len(PANEL_ROW))
    months = np.array(month, dtype=np.int64)
    ids = np.array(loan, dtype=object)
    order = np.lexsort((months, ids.astype(str))) if len(ids) else np.arange(0)
    data: dict[str, Any] = {
        "Loan_ID": pd.array(ids[order], dtype="string"),
        "Row": np.arange(2, len(ids) + 2, dtype=np.int64),
        "Month": months[order],
    }
    for name, values in zip(_FLOATS, amounts, strict=True):
        data[name] = np.array(values, dtype=np.float64)[order]
    return pd.DataFrame(data, index=pd.RangeIndex(len(ids)))


def trusted_collections(rows: Iterable[Sequence[Any]]) -> pd.DataFrame:
    """Stored collection actions (:data:`HISTORY_ROW` each) as ``validate_collections`` types
    them (``Month`` int64, amounts float64)."""
    loan, month, action, cost, recovered = _columns(rows, len(HISTORY_ROW))
    data = {
        "Loan_ID": np.array(loan, dtype=object),
        "Month": np.array(month, dtype=np.int64),
        "Action": np.array(action, dtype=object),
        "Cost": np.array(cost, dtype=np.float64),
        "Recovered_Amount": np.array(recovered, dtype=np.float64),
    }
    return pd.DataFrame(data, index=pd.RangeIndex(len(data["Month"])))
