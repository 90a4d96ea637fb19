"""Mapping files: a lender's column names and level spellings onto the canonical contract.

A mapping file is TOML::

    [columns]            # their column name = canonical column name
    "Cust Ref" = "Borrower_ID"
    "Acct No" = "Loan_ID"

    [values.Gender]      # optional: their level = canonical level
    M = "Male"
    F = "Female"
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from loanrecovery.exceptions import MappingError

__all__ = ["ColumnMapping", "load_mapping", "apply_mapping"]


@dataclass(frozen=True)
class ColumnMapping:
    """Renames of columns and recodings of levels, from a mapping file."""

    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    source: str = "<mapping>"


def load_mapping(path: str | Path) -> ColumnMapping:
    """Read and check a TOML mapping file.

    Raises
    ------
    MappingError
        The file is missing, not TOML, or maps two columns onto one name.
    """
    path = Path(path)
    if not path.is_file():
        raise MappingError(f"{path}: mapping file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: not a valid TOML mapping file ({exc})") from None
    unknown = set(data) - {"columns", "values"}
    if unknown:
        raise MappingError(
            f"{path}: unknown section(s) {sorted(unknown)}; expected [columns] and [values.COLUMN]"
        )
    columns = data.get("columns", {})
    values = data.get("values", {})
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        raise MappingError(f'{path}: [columns] must map names to names, e.g. "Acct" = "Loan_ID"')
    targets = list(columns.values())
    repeated = sorted({t for t in targets if targets.count(t) > 1})
    if repeated:
        raise MappingError(f"{path}: several columns are mapped onto {repeated}; map only one")
    for column, levels in values.items():
        if not isinstance(levels, dict) or not all(isinstance(v, str) for v in levels.values()):
            raise MappingError(f"{path}: [values.{column}] must map levels to levels")
    return ColumnMapping(
        columns=dict(columns), values={k: dict(v) for k, v in values.items()}, source=str(path)
    )


def _recode(levels: dict[str, str]) -> Callable[[object], object]:
    def recode(value: object) -> object:
        return levels.get(value, value) if isinstance(value, str) else value

    return recode


def apply_mapping(frame: pd.DataFrame, mapping: ColumnMapping) -> pd.DataFrame:
    """Rename columns and recode levels as ``mapping`` says; other columns are untouched.

    Raises
    ------
    MappingError
        A renamed column would collide with a column already present.
    """
    renames = {k: v for k, v in mapping.columns.items() if k in frame.columns}
    collisions = sorted(v for k, v in renames.items() if v in frame.columns and v not in renames)
    if collisions:
        raise MappingError(
            f"{mapping.source}: the file already has column(s) {collisions}; "
            "remove them or drop their lines from the mapping"
        )
    out = frame.rename(columns=renames)
    for column, levels in mapping.values.items():
        if column in out.columns:
            out[column] = out[column].map(_recode(levels))
    out.attrs = dict(frame.attrs)
    return out
