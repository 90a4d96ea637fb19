"""Tables from rows that already passed the contract (e.g. stored by the service's import),
typed as :func:`~loanrecovery.contract.book.validate_book` types them, without checking them
again.

Checking a single account's raw rows costs about a hundred times what scoring it does; rows
read back from a database that only ever stored accepted rows need the types, not the checks.
Nothing here rejects a row: give only rows the contract accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from loanrecovery.contract.schema import LOAN_SPECS, Kind

__all__ = ["trusted_loans", "trusted_panel", "trusted_collections", "PANEL_ROW", "HISTORY_ROW"]

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
