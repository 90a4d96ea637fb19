"""Row checks for tables that are not ours (``evaluate``, ``train``, ``score``).

A table of any layout has no contract to reject rows against, but some rows are plainly not
loans, and some values plainly not what their column holds:

* a **repeated header row** (a file concatenated from several exports): a row whose values
  are the column names; always rejected;
* a **malformed record** (more fields than the header): skipped by the reader and listed;
* a **value that is not a number** (or ``inf``) in a column that is otherwise numeric:
  counted per column and reported; with ``strict`` the row is rejected.

Rejects use the contract's layout (``Loan_ID, Row, Column, Value, Reason``, header = row 1),
so that rows in = rows used + rows excluded + rows rejected.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loanrecovery.contract.numbers import parse_numbers
from loanrecovery.contract.validate import REJECT_COLUMNS
from loanrecovery.io import MALFORMED_ROWS

__all__ = ["TableRejects", "header_rows", "file_rows", "malformed_rejects", "value_problems"]

logger = logging.getLogger(__name__)

#: Share of a row's values equal to their column's name from which it is a header row.
HEADER_SHARE = 0.5


@dataclass(frozen=True)
class TableRejects:
    """Rows of a table taken out before modelling or scoring.

    Attributes
    ----------
    keep : ndarray of bool
        One per row of the table as read: the row is used.
    rejects : DataFrame
        :data:`~loanrecovery.contract.validate.REJECT_COLUMNS`, one line per rejected
        record (malformed records included).
    problems : dict
        Column -> reason -> number of values, for the non-numeric and non-finite values
        of numeric columns (rejected or not).
    """

    keep: np.ndarray
    rejects: pd.DataFrame
    problems: dict[str, dict[str, int]]

    @property
    def n_rejected(self) -> int:
        """Records rejected (malformed ones included)."""
        return len(self.rejects)


def file_rows(frame: pd.DataFrame) -> np.ndarray:
    """File row number (header = row 1) of each row of ``frame``, skipping malformed ones."""
    bad = {int(m[0]) for m in frame.attrs.get(MALFORMED_ROWS, []) if m[0] is not None}
    numbers = np.arange(2, 2 + len(frame) + len(bad))
    if bad:
        numbers = numbers[~np.isin(numbers, list(bad))]
    return numbers[: len(frame)]


def header_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose values repeat the column names (at least half of them, and two)."""
    if frame.shape[1] == 0 or len(frame) == 0:
        return np.zeros(len(frame), dtype=bool)
    hits = np.zeros(len(frame), dtype=np.int64)
    for name in frame.columns:
        values = frame[name]
        if pd.api.types.is_numeric_dtype(values):
            continue
        text = values.astype("string").str.strip().str.casefold()
        hits += (text == str(name).strip().casefold()).fillna(False).to_numpy(dtype=np.int64)
    need = max(2 if frame.shape[1] > 1 else 1, int(np.ceil(HEADER_SHARE * frame.shape[1])))
    return hits >= need


def malformed_rejects(frame: pd.DataFrame) -> pd.DataFrame:
    """Rejects for the records the CSV reader skipped (``frame.attrs["malformed_rows"]``)."""
    rows = [
        {
            "Loan_ID": None,
            "Row": int(number) if number is not None else None,
            "Column": "(record)",
            "Value": str(text)[:200],
            "Reason": f"malformed record: {found} fields, the header has {expected}",
        }
        for number, text, found, expected in frame.attrs.get(MALFORMED_ROWS, [])
    ]
    return pd.DataFrame(rows, columns=REJECT_COLUMNS)


def value_problems(
    frame: pd.DataFrame, numeric_columns: list[str], *, id_column: str | None = None
) -> tuple[dict[str, dict[str, int]], pd.DataFrame]:
    """Non-numeric and non-finite values of numeric columns: counts and one line per value.

    Returns
    -------
    problems : dict
        Column -> reason -> count.
    lines : DataFrame
        ``Loan_ID, Row, Column, Value, Reason`` for every refused value (``Row`` is the
        position in ``frame``; the caller maps it onto file rows).
    """
    problems: dict[str, dict[str, int]] = {}
    parts = []
    for name in numeric_columns:
        if name not in frame.columns:
            continue
        parsed = parse_numbers(frame[name])
        bad = parsed.problems.notna().to_numpy()
        if not bad.any():
            continue
        counts = parsed.problems[bad].value_counts()
        problems[str(name)] = {str(k): int(v) for k, v in counts.items()}
        ids = frame[id_column] if id_column in frame.columns else pd.Series(None, index=frame.index)
        parts.append(
            pd.DataFrame(
                {
                    "Loan_ID": ids.to_numpy()[bad],
                    "Row": np.flatnonzero(bad),
                    "Column": str(name),
                    "Value": frame[name].astype("string").to_numpy()[bad],
                    "Reason": parsed.problems.to_numpy()[bad],
                }
            )
        )
    lines = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=REJECT_COLUMNS)
    return problems, lines


def check_rows(
    frame: pd.DataFrame,
    numeric_columns: list[str],
    *,
    strict: bool = False,
    id_column: str | None = None,
) -> TableRejects:
    """Header rows, malformed records and (with ``strict``) rows with a refused number.

    Parameters
    ----------
    frame : DataFrame
        The table as read.
    numeric_columns : list of str
        Columns read as numbers.
    strict : bool, default=False
        Reject a row with a value that is not a finite number in a numeric column (by
        default the value is counted, reported and read as missing).
    id_column : str, optional
        Column reported as ``Loan_ID`` in the rejects.

    Returns
    -------
    TableRejects
    """
    rows = file_rows(frame)
    header = header_rows(frame)
    ids = frame[id_column] if id_column in frame.columns else pd.Series(None, index=frame.index)
    parts = [malformed_rejects(frame)]
    if header.any():
        parts.append(
            pd.DataFrame(
                {
                    "Loan_ID": ids.to_numpy()[header],
                    "Row": rows[header],
                    "Column": "(record)",
                    "Value": frame.loc[header].astype(str).agg(",".join, axis=1).str[:200],
                    "Reason": "repeated header row: the values are the column names",
                }
            )
        )
    problems, lines = value_problems(
        frame.loc[~header].reset_index(drop=True), numeric_columns, id_column=id_column
    )
    keep = ~header
    if strict and len(lines):
        positions = np.flatnonzero(~header)[lines["Row"].to_numpy(dtype=np.int64)]
        lines = lines.assign(Row=rows[positions])
        lines = lines.drop_duplicates("Row", keep="first")
        keep = keep & ~np.isin(rows, lines["Row"].to_numpy())
        parts.append(lines.assign(Reason=lines["Reason"] + " (rejected with --strict)"))
    rejects = (
        pd.concat([p for p in parts if len(p)], ignore_index=True)
        if any(len(p) for p in parts)
        else pd.DataFrame(columns=REJECT_COLUMNS)
    )
    rejects = rejects.sort_values("Row", kind="stable").reset_index(drop=True)
    if len(rejects):
        logger.warning("%d rows rejected (header rows, malformed records)", len(rejects))
    return TableRejects(keep=np.asarray(keep, dtype=bool), rejects=rejects, problems=problems)
