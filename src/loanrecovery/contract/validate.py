"""Validation of a table against a data contract: accepted rows, and rejects with reasons.

Every input row ends in exactly one of the two outputs: rows in = rows accepted + rows
rejected. Row numbers are record numbers in the file, the header being row 1.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loanrecovery.contract.numbers import parse_numbers
from loanrecovery.contract.schema import (
    ID_COLUMN,
    LOAN_SPECS,
    ColumnSpec,
    Kind,
)
from loanrecovery.exceptions import DataFileError
from loanrecovery.io import MALFORMED_ROWS

__all__ = [
    "REJECT_COLUMNS",
    "ValidationResult",
    "validate_frame",
    "validate_loans",
    "match_columns",
]

logger = logging.getLogger(__name__)

#: Columns of a rejects file.
REJECT_COLUMNS = ["Loan_ID", "Row", "Column", "Value", "Reason"]


@dataclass(frozen=True)
class ValidationResult:
    """Outcome of validating one table.

    Attributes
    ----------
    accepted : DataFrame
        Rows that passed, typed: contract columns first in contract order, then the other
        columns of the file untouched. Indexed by position in the accepted set.
    rejects : DataFrame
        One line per rejected row with :data:`REJECT_COLUMNS`.
    row_numbers : ndarray
        File row number of each accepted row (header = row 1).
    n_rows_in : int
        Records read from the file, malformed ones included.
    source : str
        Where the table came from, for messages.
    """

    accepted: pd.DataFrame
    rejects: pd.DataFrame
    row_numbers: np.ndarray
    n_rows_in: int
    source: str

    @property
    def n_accepted(self) -> int:
        """Number of rows that passed."""
        return len(self.accepted)

    @property
    def n_rejected(self) -> int:
        """Number of rows sent to the rejects file."""
        return len(self.rejects)


def natural_order(ids: pd.Series) -> np.ndarray:
    """Positions that sort identifiers naturally: ``LN_2`` before ``LN_10`` (text before a
    trailing number, then the number, then the whole text), so that a file already in that
    order keeps it."""
    text = ids.astype(str).reset_index(drop=True)
    digits = text.str.extract(r"(\d+)$")[0].fillna("")
    number = digits.str.lstrip("0")
    keys = pd.DataFrame(
        {
            "prefix": text.str.replace(r"\d+$", "", regex=True),
            "length": number.str.len(),
            "number": number,
            "text": text,
        }
    )
    return keys.sort_values(list(keys.columns), kind="stable").index.to_numpy()


def _canonical_key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(name).strip().lstrip("\ufeff").casefold())


def match_columns(frame: pd.DataFrame, specs: Sequence[ColumnSpec]) -> pd.DataFrame:
    """Rename columns that match a contract column up to case, spaces and underscores."""
    wanted = {_canonical_key(spec.name): spec.name for spec in specs}
    present = set(frame.columns)
    renames: dict[str, str] = {}
    for column in frame.columns:
        target = wanted.get(_canonical_key(column))
        if target is not None and target != column and target not in present:
            if target in renames.values():
                continue
            renames[column] = target
    if renames:
        logger.info("columns matched to the contract: %s", renames)
    return frame.rename(columns=renames)


def _as_text(series: pd.Series) -> pd.Series:
    text = series.map(
        lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
    )
    text = text.map(lambda v: None if v is None or not v.strip() else v.strip())
    return text


def _check_number(
    spec: ColumnSpec, text: pd.Series, decimal: str = "."
) -> tuple[pd.Series, pd.Series]:
    """Parse numbers (:func:`~loanrecovery.contract.numbers.parse_numbers`); return (values,
    reason-or-None per row). A value in the wrong format is a format problem, never "out of
    range"."""
    parsed = parse_numbers(text, decimal=decimal)
    values = parsed.values
    reasons = pd.Series(None, index=text.index, dtype=object)
    present = text.notna()
    not_number = present & parsed.problems.notna()
    reasons[not_number] = parsed.problems[not_number] + f"; expected {spec.expected()}"
    ok = present & ~not_number
    if spec.kind is Kind.INTEGER:
        fractional = ok & (values.round() != values)
        reasons[fractional] = f"not a whole number; expected {spec.expected()}"
        ok &= ~fractional
    if spec.minimum is not None:
        low = ok & ((values <= spec.minimum) if spec.exclusive_minimum else (values < spec.minimum))
        reasons[low] = f"out of range; expected {spec.expected()}"
        ok &= ~low
    if spec.maximum is not None:
        high = ok & (values > spec.maximum)
        reasons[high] = f"out of range; expected {spec.expected()}"
    values = values.where(reasons.isna())
    if spec.kind is Kind.INTEGER:
        return values.astype("Int64"), reasons
    return values, reasons


def _check_category(spec: ColumnSpec, text: pd.Series) -> tuple[pd.Series, pd.Series]:
    lookup = spec.level_lookup()
    values = text.map(
        lambda v: None if v is None else lookup.get(re.sub(r"[\s_\-]+", "", v.casefold()))
    )
    reasons = pd.Series(None, index=text.index, dtype=object)
    reasons[text.notna() & values.isna()] = f"unknown level; expected {spec.expected()}"
    return values.astype(object), reasons


def _typed_numbers(raw: pd.Series) -> bool:
    """Whether ``raw`` is a NumPy integer or float column (a table built in memory, such as
    the built-in book): its values are numbers already, NaN is missing, and writing them as
    text to parse them again would give back the same floats (Python writes the shortest
    text that reads back as the same float), only slower."""
    return isinstance(raw.dtype, np.dtype) and raw.dtype.kind in "iuf"


def _check_column(
    spec: ColumnSpec, raw: pd.Series, decimal: str = "."
) -> tuple[pd.Series, pd.Series]:
    if spec.kind in (Kind.INTEGER, Kind.NUMBER) and _typed_numbers(raw):
        # parse_numbers reads a typed column as it is (inf refused as not finite).
        values, reasons = _check_number(spec, raw, decimal)
        if not spec.nullable:
            reasons[raw.isna()] = f"missing value; expected {spec.expected()}"
        return values, reasons
    text = _as_text(raw)
    if spec.kind in (Kind.INTEGER, Kind.NUMBER):
        values, reasons = _check_number(spec, text, decimal)
    elif spec.kind is Kind.CATEGORY:
        values, reasons = _check_category(spec, text)
    else:
        values, reasons = text.astype(object), pd.Series(None, index=text.index, dtype=object)
    if not spec.nullable:
        reasons[text.isna()] = f"missing value; expected {spec.expected()}"
    return values, reasons


def _file_row_numbers(n_records: int, malformed: list[tuple]) -> np.ndarray:
    bad = {int(m[0]) for m in malformed if m[0] is not None}
    numbers = np.arange(2, 2 + n_records + len(malformed))
    if bad:
        numbers = numbers[~np.isin(numbers, list(bad))]
    return numbers[:n_records]


def _require_columns(frame: pd.DataFrame, specs: Sequence[ColumnSpec], source: str) -> None:
    missing = [spec.name for spec in specs if spec.required and spec.name not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns[:30]))
        raise DataFileError(
            source,
            f"required column{'s' if len(missing) > 1 else ''} missing: {', '.join(missing)} "
            f"(columns found: {found}); rename them or pass a --mapping file "
            "(`loanrecovery evaluate` models a table of any other layout)",
            column=missing[0],
        )


def validate_frame(
    frame: pd.DataFrame,
    specs: Sequence[ColumnSpec],
    *,
    source: str,
    id_column: str | None = ID_COLUMN,
    unique_id: bool = True,
    sort_by_id: bool = False,
    decimal: str = ".",
) -> ValidationResult:
    """Check every value of ``frame`` against ``specs``.

    Parameters
    ----------
    frame : DataFrame
        The table as read, ideally as text (``read_table(..., as_text=True)``).
    specs : sequence of ColumnSpec
        The contract.
    source : str
        The file name, for messages.
    id_column : str or None, default="Loan_ID"
        Key column reported in rejects.
    unique_id : bool, default=True
        Reject rows whose key repeats an earlier row's.
    sort_by_id : bool, default=False
        Sort the accepted rows by ``id_column`` in natural order (:func:`natural_order`,
        with ``row_numbers`` kept aligned), so that
        every later stage sees the same order whatever the file's row order.
    decimal : {".", ","}, default="."
        The decimal mark of the file's numbers (with ``","`` the thousands separator is
        ``"."``: ``"215.422,00"`` is 215422.0).

    Returns
    -------
    ValidationResult

    Raises
    ------
    DataFileError
        A required column is missing.
    """
    malformed = list(frame.attrs.get(MALFORMED_ROWS, []))
    frame = match_columns(frame, specs)
    _require_columns(frame, specs, source)
    frame = frame.reset_index(drop=True)
    rows = _file_row_numbers(len(frame), malformed)

    problems: list[tuple[str, pd.Series, pd.Series]] = []  # column, reasons, raw values
    typed: dict[str, pd.Series] = {}
    for spec in specs:
        if spec.name not in frame.columns:
            continue
        values, reasons = _check_column(spec, frame[spec.name], decimal)
        typed[spec.name] = values
        problems.append((spec.name, reasons, frame[spec.name]))

    if id_column is not None and unique_id and id_column in typed:
        ids = typed[id_column]
        first_row = pd.Series(rows, index=frame.index).groupby(ids).transform("min")
        duplicated = ids.notna() & ids.duplicated(keep="first")
        dup_reasons = pd.Series(None, index=frame.index, dtype=object)
        dup_reasons[duplicated] = (
            "duplicate "
            + id_column
            + "; first seen at row "
            + first_row[duplicated].astype("Int64").astype(str)
        )
        problems.append((id_column, dup_reasons, frame[id_column]))

    rejects = _collect_rejects(frame, problems, rows, id_column)
    rejects = pd.concat([rejects, _malformed_rejects(malformed)], ignore_index=True)
    rejects = rejects.sort_values("Row", kind="stable").reset_index(drop=True)

    bad_index = np.zeros(len(frame), dtype=bool)
    for _, reasons, _ in problems:
        bad_index |= reasons.notna().to_numpy()
    spec_names = [spec.name for spec in specs if spec.name in typed]
    extras = [c for c in frame.columns if c not in typed]
    accepted = pd.concat([pd.DataFrame(typed)[spec_names], frame[extras]], axis=1)
    accepted = accepted.loc[~bad_index].reset_index(drop=True)
    for spec in specs:
        if spec.kind is Kind.INTEGER and not spec.nullable and spec.name in accepted.columns:
            accepted[spec.name] = accepted[spec.name].astype("int64")
    kept_rows = rows[~bad_index]
    if sort_by_id and id_column in accepted.columns:
        order = natural_order(accepted[id_column])
        accepted = accepted.iloc[order].reset_index(drop=True)
        kept_rows = kept_rows[order]
    result = ValidationResult(
        accepted=accepted,
        rejects=rejects[REJECT_COLUMNS],
        row_numbers=kept_rows,
        n_rows_in=len(frame) + len(malformed),
        source=source,
    )
    if result.n_rejected:
        logger.warning("%s: %d of %d rows rejected", source, result.n_rejected, result.n_rows_in)
    return result


def _collect_rejects(
    frame: pd.DataFrame,
    problems: list[tuple[str, pd.Series, pd.Series]],
    rows: np.ndarray,
    id_column: str | None,
) -> pd.DataFrame:
    records: dict[int, list[tuple[str, object, str]]] = {}
    for column, reasons, raw in problems:
        for index in np.flatnonzero(reasons.notna().to_numpy()):
            records.setdefault(int(index), []).append(
                (column, raw.iloc[index], reasons.iloc[index])
            )
    out = []
    for position, found in sorted(records.items()):
        column, value, reason = found[0]
        if len(found) > 1:
            others = "; ".join(f"{c} {v!r}: {r}" for c, v, r in found[1:])
            reason = f"{reason} (also {others})"
        loan_id = frame[id_column].iloc[position] if id_column in frame.columns else None
        out.append(
            {
                "Loan_ID": loan_id,
                "Row": int(rows[position]),
                "Column": column,
                "Value": value,
                "Reason": reason,
            }
        )
    return pd.DataFrame(out, columns=REJECT_COLUMNS)


def _malformed_rejects(malformed: list[tuple]) -> pd.DataFrame:
    out = [
        {
            "Loan_ID": None,
            "Row": number,
            "Column": "",
            "Value": text,
            "Reason": f"record has {found} fields but the header has {expected}",
        }
        for number, text, found, expected in malformed
    ]
    return pd.DataFrame(out, columns=REJECT_COLUMNS)


def validate_loans(frame: pd.DataFrame, *, source: str, decimal: str = ".") -> ValidationResult:
    """Validate a loan table against the canonical loan contract (:data:`LOAN_SPECS`); the
    accepted loans are sorted by ``Loan_ID``, so that results do not depend on row order.
    ``decimal`` is the file's decimal mark (see :func:`validate_frame`)."""
    return validate_frame(
        frame, LOAN_SPECS, source=source, id_column=ID_COLUMN, sort_by_id=True, decimal=decimal
    )
