"""The product's one number parser: text (or typed) values to floats, with a reason per value.

Every reader of numbers (the loan contract, the payment panel, the collection history and the
tables of :mod:`loanrecovery.modeling.table`) goes through :func:`parse_numbers`, so that one
value means the same number everywhere.

Accepted
--------
* plain numbers (``12``, ``-3.5``, ``1e3``);
* a currency sign before the number (``$``, ``€``, ``£``, ``¥``, ``₹``), spaces around it;
* thousands separators in their proper places (``1,234,567.89``, ``1 234``);
* a trailing percent sign, read as the number before it (``"12%"`` is 12, as the canonical
  ``Interest_Rate`` column is written in percent);
* accounting negatives in parentheses (``(250.00)`` is -250).

Refused, with a reason
----------------------
* a decimal comma (``"12,39"``, ``"215.422,00"``): it is never read 1,000-fold wrong; the
  reason says so, and ``decimal=","`` (``--decimal ,``) reads such a file correctly;
* ``inf``, ``nan`` and other non-finite values;
* anything else that is not a number.

Missing values (empty, ``None``, ``NaN`` in a typed column) are missing, not a problem: each
caller decides whether a column may be empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "ParsedNumbers",
    "parse_numbers",
    "NOT_A_NUMBER",
    "NOT_FINITE",
    "DECIMAL_COMMA",
    "read_decimal_columns",
]

#: Reason for a value that is not a number at all.
NOT_A_NUMBER = "not a number"
#: Reason for ``inf``, ``-inf`` or ``nan`` written as a value.
NOT_FINITE = "not a number: inf and nan are not finite values"
#: Reason for a decimal comma read with ``decimal="."``.
DECIMAL_COMMA = (
    "decimal comma: this file is read with '.' as the decimal mark and ',' as the thousands "
    "separator; write the number as 1234.56 (or read the file with --decimal ',')"
)  #: Reason for a decimal point read with ``decimal=","``.
DECIMAL_POINT = "decimal point: this file is read with ',' as the decimal mark; write 1234,56"

_CURRENCY = re.compile(r"^([+-]?)\s*[$€£¥₹]\s*")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
# Thousands grouped by the separator, then an optional decimal part.
_GROUPED = {
    ".": re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$"),
    ",": re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d*)?$"),
}
_PLAIN = {
    ".": re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"),
    ",": re.compile(r"^[+-]?(\d+,?\d*|,\d+)([eE][+-]?\d+)?$"),
}
_NON_FINITE = re.compile(r"^[+-]?(inf|infinity|nan)$", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedNumbers:
    """Outcome of :func:`parse_numbers`.

    Attributes
    ----------
    values : Series
        float64, NaN where the value is missing or refused; the input's index.
    problems : Series
        object: ``None`` where the value is a number or missing, else the reason.
    """

    values: pd.Series
    problems: pd.Series

    @property
    def n_problems(self) -> int:
        """Number of present values that were refused."""
        return int(self.problems.notna().sum())


def _is_missing(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return values.isna() | (text == "").fillna(True)


def _parse_text(text: pd.Series, decimal: str) -> tuple[pd.Series, pd.Series]:
    """Parse stripped, non-missing text values; return (floats, reasons)."""
    other = "," if decimal == "." else "."
    body = text.str.replace(_CURRENCY, r"\1", regex=True)
    body = body.str.removesuffix("%").str.strip()  # 12% -> 12
    negative = body.str.startswith("(") & body.str.endswith(")")
    body = body.where(~negative, body.str[1:-1].str.strip())
    body = body.str.replace(_SPACES, "", regex=True)
    grouped = body.str.match(_GROUPED[decimal]).fillna(False)
    plain = body.str.match(_PLAIN[decimal]).fillna(False)
    canonical = body.where(~grouped, body.str.replace(other, "", regex=False))
    if decimal == ",":
        canonical = canonical.str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(canonical.where(grouped | plain), errors="coerce").astype("float64")
    numbers = numbers.where(~negative, -numbers)
    reasons = pd.Series(None, index=text.index, dtype=object)
    non_finite = body.str.match(_NON_FINITE).fillna(False)
    reasons[non_finite] = NOT_FINITE
    # A comma where a dot belongs: "12,39", "215.422,00", "1,5e3".
    wrong_mark = ~grouped & ~plain & ~non_finite & body.str.match(_PLAIN[other]).fillna(False)
    wrong_mark |= ~grouped & ~plain & body.str.match(_GROUPED[other]).fillna(False)
    reasons[wrong_mark] = DECIMAL_COMMA if decimal == "." else DECIMAL_POINT
    unparsed = numbers.isna() & reasons.isna()
    reasons[unparsed] = NOT_A_NUMBER
    overflow = reasons.isna() & ~np.isfinite(numbers.fillna(0.0))
    reasons[overflow] = NOT_FINITE
    numbers = numbers.where(reasons.isna())
    return numbers, reasons


def parse_numbers(values: pd.Series, *, decimal: str = ".") -> ParsedNumbers:
    """Read a column of numbers; refuse, with a reason, what is not a finite number.

    Parameters
    ----------
    values : Series
        Text as read from a file, or an already typed column.
    decimal : {".", ","}, default="."
        The decimal mark. With ``","`` the thousands separator is ``"."``
        (``"215.422,00"`` is 215422.0).

    Returns
    -------
    ParsedNumbers
        Floats and a reason per refused value (see the module docstring).

    Raises
    ------
    ValueError
        ``decimal`` is neither ``"."`` nor ``","``.
    """
    if decimal not in (".", ","):
        raise ValueError(f"decimal must be '.' or ',', got {decimal!r}")
    values = pd.Series(values)
    if pd.api.types.is_bool_dtype(values):
        values = values.astype("float64")
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.astype("float64")
        reasons = pd.Series(None, index=values.index, dtype=object)
        reasons[np.isinf(numbers.to_numpy())] = NOT_FINITE
        return ParsedNumbers(numbers.where(reasons.isna()), reasons)
    missing = _is_missing(values)
    numbers = pd.Series(np.nan, index=values.index, dtype="float64")
    reasons = pd.Series(None, index=values.index, dtype=object)
    present = ~missing.to_numpy()
    if present.any():
        text = values[present].astype("string").str.strip()
        parsed, why = _parse_text(text, decimal)
        numbers[present] = parsed.to_numpy(dtype="float64", na_value=np.nan)
        reasons[present] = why.to_numpy()
    return ParsedNumbers(numbers, reasons)


#: Share of a text column's present values that must be numbers for it to be read as numbers.
_NUMBER_COLUMN_SHARE = 0.9


def read_decimal_columns(
    frame: pd.DataFrame, *, decimal: str = ","
) -> tuple[pd.DataFrame, dict[str, int]]:
    """A table read as text, with its number columns parsed with ``decimal`` as the mark.

    For tables of any layout (``evaluate``, ``train``, ``score``), whose number columns are
    not known in advance: a text column is a number column when at least 90% of its present
    values are numbers written with ``decimal`` (:func:`parse_numbers`); it becomes float64.
    Its other values (``"1.5"`` in a decimal-comma file, ``"n/a"``) become missing and are
    counted, never read in the other convention.

    Parameters
    ----------
    frame : DataFrame
        The table as read with ``as_text=True`` (attributes such as malformed rows are kept).
    decimal : {".", ","}, default=","

    Returns
    -------
    frame : DataFrame
    refused : dict of str to int
        Per number column, the present values that were not numbers (read as missing).
    """
    out = frame.copy()
    refused: dict[str, int] = {}
    for name in frame.columns:
        values = frame[name]
        if pd.api.types.is_numeric_dtype(values):
            continue
        parsed = parse_numbers(values, decimal=decimal)
        present = int((parsed.values.notna() | parsed.problems.notna()).sum())
        if present == 0 or parsed.values.notna().sum() < _NUMBER_COLUMN_SHARE * present:
            continue
        out[name] = parsed.values
        if parsed.n_problems:
            refused[str(name)] = parsed.n_problems
    out.attrs = dict(frame.attrs)
    return out, refused
