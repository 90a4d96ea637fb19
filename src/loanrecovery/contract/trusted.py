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


def _typed(spec_kind: Kind, nullable: bool, values: pd.Series) -> pd.Series:
    if spec_kind is Kind.INTEGER:
        return values.astype("Int64" if nullable else "int64")
    if spec_kind is Kind.NUMBER:
        return pd.to_numeric(values, errors="raise").astype("float64")
    out = values.astype(object)
    out[values.isna()] = None
    return out


def trusted_loans(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Accepted loan rows (canonical names) as ``validate_loans`` types them: contract
    columns first, in contract order (integers ``int64``, or ``Int64`` when the column may be
    empty; numbers ``float64``; levels and text as objects), then the other columns as given.

    Raises
    ------
    ValueError
        A contract number that is not a number (the rows were not accepted rows).
    """
    frame = pd.DataFrame.from_records(list(rows))
    names = [s.name for s in LOAN_SPECS if s.name in frame.columns]
    extras = [c for c in frame.columns if c not in set(names)]
    typed = {
        spec.name: _typed(spec.kind, spec.nullable, frame[spec.name])
        for spec in LOAN_SPECS
        if spec.name in frame.columns
    }
    out = pd.concat([pd.DataFrame(typed)[names], frame[extras]], axis=1)
    return out.reset_index(drop=True)


def trusted_panel(rows: Iterable[Sequence[Any]]) -> pd.DataFrame:
    """Stored panel rows (:data:`PANEL_ROW` each) as ``validate_panel`` types them: ``Loan_ID``
    as string, ``Row`` numbered from 2, ``Month`` int64, amounts float64, sorted by loan then
    month."""
    frame = pd.DataFrame.from_records([tuple(r) for r in rows], columns=list(PANEL_ROW))
    frame = frame.sort_values(["Loan_ID", "Month"], kind="stable").reset_index(drop=True)
    out = pd.DataFrame(
        {
            "Loan_ID": frame["Loan_ID"].astype("string"),
            "Row": np.arange(2, len(frame) + 2, dtype=np.int64),
            "Month": frame["Month"].astype("int64"),
        }
    )
    for name in _FLOATS:
        out[name] = frame[name].astype("float64")
    return out


def trusted_collections(rows: Iterable[Sequence[Any]]) -> pd.DataFrame:
    """Stored collection actions (:data:`HISTORY_ROW` each) as ``validate_collections`` types
    them (``Month`` int64, amounts float64)."""
    frame = pd.DataFrame.from_records([tuple(r) for r in rows], columns=list(HISTORY_ROW))
    return frame.astype(
        {"Loan_ID": object, "Month": "int64", "Action": object, "Cost": "float64",
         "Recovered_Amount": "float64"}
    )  # fmt: skip
