"""Reading and validating the monthly payment panel.

The panel is long: one row per loan per active month, in the layout of the simulator's
``payments.csv`` (:data:`PANEL_COLUMNS`). Validation follows the loan contract's standard:
problems that make the whole file unusable raise :class:`~loanrecovery.exceptions.DataFileError`;
problems with single rows become *rejects* (``Loan_ID, Row, Column, Value, Reason``) and
nothing is silently lost: ``len(panel) == len(accepted) + number of rejected rows``.

Row-level rules
---------------
* a value that is missing, not a number or not finite (``inf``) in a required column, read
  with the product's one number parser (:mod:`loanrecovery.contract.numbers`);
* a negative amount, days past due or balance;
* a month that is not a whole month index (``1.5``) or a ``YYYY-MM`` text; a month written
  in the file's minority format (``2024-03`` among month indices, or the reverse);
* a month far outside the book's span: after the as-of month (the loans'
  ``Snapshot_Month``), or more than :data:`MAX_SPAN_MONTHS` from the panel's median month;
* a repeated loan-month: identical copies keep one (the earliest file row), copies that
  disagree are all rejected;
* a month before the loan's ``Origination_Month`` (when the loan table has it);
* a loan in the panel but not in the loan table.

The rules do not depend on row order: rows are sorted by ``Loan_ID`` and ``Month`` before
they are checked, so a shuffled file gives the same accepted panel and the same rejects.

A month missing from a loan's rows (never sent, or its row rejected) is not a reason to
reject the months after it: the features treat it as unknown (see
:func:`loanrecovery.early_warning.features.build_features`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from loanrecovery.contract.numbers import parse_numbers
from loanrecovery.contract.schema import PAYMENT_SPECS, ColumnSpec
from loanrecovery.contract.validate import REJECT_COLUMNS as _CONTRACT_REJECT_COLUMNS
from loanrecovery.contract.validate import match_columns
from loanrecovery.exceptions import DataFileError
from loanrecovery.io import MALFORMED_ROWS, read_table

__all__ = [
    "PANEL_COLUMNS",
    "REJECT_COLUMNS",
    "PanelValidation",
    "validate_panel",
    "read_panel",
    "month_index",
]

logger = logging.getLogger(__name__)

#: Columns of the payment panel, in the simulator's order.
PANEL_COLUMNS: tuple[str, ...] = tuple(spec.name for spec in PAYMENT_SPECS)

#: Columns of a rejects frame (the same layout as the loan contract's rejects).
REJECT_COLUMNS: tuple[str, ...] = tuple(_CONTRACT_REJECT_COLUMNS)

#: The panel's columns as contract specs (used to match column names that differ only in
#: case, spaces or underscores; values are checked by the vectorised rules below, which
#: keep a 700,000-row panel to about a second).
PANEL_SPECS: tuple[ColumnSpec, ...] = PAYMENT_SPECS

#: Months further than this from the panel's median month are rejected (100 years).
MAX_SPAN_MONTHS = 1200
#: Month values beyond this are not months at all (YYYY-MM gives about 24,300 today).
_MONTH_LIMIT = 1_000_000

_NON_NEGATIVE: tuple[str, ...] = (
    "Amount_Due",
    "Amount_Paid",
    "Days_Past_Due",
    "Outstanding_Balance",
)


@dataclass(frozen=True)
class PanelValidation:
    """Outcome of :func:`validate_panel`.

    Attributes
    ----------
    accepted : DataFrame
        The usable rows, typed (``Month`` as int64, amounts as float64), sorted by
        ``Loan_ID`` then ``Month``, with a ``Row`` column giving the file row each came
        from (header = row 1).
    rejects : DataFrame
        One line per rejected row (``Loan_ID, Row, Column, Value, Reason``), in the layout
        of the loan contract's rejects; further problems of the same row are listed in the
        reason as "(also ...)".
    n_rows_in : int
        Rows in the input.
    """

    accepted: pd.DataFrame
    rejects: pd.DataFrame
    n_rows_in: int

    @property
    def n_rows_rejected(self) -> int:
        """Number of input rows rejected."""
        return len(self.rejects)


def month_index(values: pd.Series) -> pd.Series:
    """Convert months to integer indices.

    Whole numbers are kept; ``YYYY-MM`` (or ``YYYY-MM-DD``) text becomes
    ``year * 12 + month - 1`` so that consecutive calendar months differ by one.
    Anything else becomes missing.

    Parameters
    ----------
    values : Series
        Month values as read from a file.

    Returns
    -------
    Series
        Float series (NaN where the value is not a month).
    """
    numeric = pd.to_numeric(values, errors="coerce")
    whole = numeric.where(np.isfinite(numeric) & (numeric == np.round(numeric)))
    if whole.notna().sum() >= values.notna().sum():
        return whole.astype("float64")
    text = values.astype("string").str.strip()
    dates = pd.to_datetime(text, format="%Y-%m", errors="coerce")
    dates = dates.fillna(pd.to_datetime(text, format="%Y-%m-%d", errors="coerce"))
    from_dates = (dates.dt.year * 12 + dates.dt.month - 1).astype("float64")
    return whole.fillna(from_dates)


def _reject_frame(
    mask: np.ndarray, frame: pd.DataFrame, column: str, value: pd.Series, reason: pd.Series | str
) -> pd.DataFrame:
    if not mask.any():
        return pd.DataFrame(columns=list(REJECT_COLUMNS))
    reasons = reason[mask] if isinstance(reason, pd.Series) else reason
    return pd.DataFrame(
        {
            "Loan_ID": frame["Loan_ID"].to_numpy()[mask],
            "Row": frame["Row"].to_numpy()[mask],
            "Column": column,
            "Value": value.astype("string").to_numpy()[mask],
            "Reason": reasons,
        }
    )


def _check_columns(panel: pd.DataFrame, source: str) -> None:
    missing = [c for c in PANEL_COLUMNS if c not in panel.columns]
    if missing:
        raise DataFileError(
            source,
            f"missing required column(s) {missing}; a payment panel needs {list(PANEL_COLUMNS)} "
            "(one row per loan per month). Rename or map your columns onto these names.",
            column=missing[0],
        )
    if len(panel) == 0:
        raise DataFileError(
            source, "the payment panel has no rows; expected one row per loan-month"
        )


def _months(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Month indices and a reason per refused month (format and whole-number rules)."""
    numeric = pd.to_numeric(raw, errors="coerce")
    text = raw.astype("string").str.strip()
    finite = np.isfinite(numeric.to_numpy(dtype=float, na_value=np.nan))
    whole = finite & (numeric == np.round(numeric)).to_numpy()
    dates = pd.to_datetime(text.where(~finite), format="%Y-%m", errors="coerce")
    dates = dates.fillna(pd.to_datetime(text.where(~finite), format="%Y-%m-%d", errors="coerce"))
    is_date = dates.notna().to_numpy()
    values = numeric.where(whole).astype("float64")
    values = values.fillna((dates.dt.year * 12 + dates.dt.month - 1).astype("float64"))
    reasons = pd.Series(None, index=raw.index, dtype=object)
    reasons[~whole & ~is_date] = "not a month: expected a whole month index or YYYY-MM"
    reasons[finite & ~whole] = "not a whole month index (a month is a whole number or YYYY-MM)"
    huge = whole & (numeric.abs() > _MONTH_LIMIT).to_numpy()
    reasons[huge] = f"month far outside any book's span (beyond +/-{_MONTH_LIMIT:,})"
    whole &= ~huge
    if whole.any() and is_date.any():
        minority = is_date if is_date.sum() < whole.sum() else whole
        written = "YYYY-MM" if minority is is_date else "a month index"
        other = "month indices" if minority is is_date else "YYYY-MM"
        reasons[minority] = f"month written as {written} while the file's other months are {other}"
    return values.where(reasons.isna()), reasons


def _value_rejects(frame: pd.DataFrame, raw: pd.DataFrame, reasons: dict) -> list[pd.DataFrame]:
    """Missing, non-numeric, non-finite and negative values; Loan_ID missing; bad months."""
    out: list[pd.DataFrame] = []
    lid = raw["Loan_ID"].astype("string").str.strip()
    bad = (lid.isna() | (lid == "")).to_numpy()
    out.append(_reject_frame(bad, frame, "Loan_ID", raw["Loan_ID"], "missing Loan_ID"))
    why = reasons["Month"]
    out.append(_reject_frame(why.notna().to_numpy(), frame, "Month", raw["Month"], why))
    for col in _NON_NEGATIVE:
        why = reasons[col].fillna("missing value") + "; expected a number >= 0"
        bad = frame[col].isna().to_numpy()
        out.append(_reject_frame(bad, frame, col, raw[col], why))
        neg = (frame[col] < 0).to_numpy()
        out.append(_reject_frame(neg, frame, col, raw[col], "negative; expected a value >= 0"))
    return out


def _span_rejects(frame: pd.DataFrame, as_of: float | None) -> list[pd.DataFrame]:
    """Months after the as-of month, or far from the panel's median month."""
    out: list[pd.DataFrame] = []
    month = frame["Month"]
    shown = month.astype("Int64")
    if as_of is not None and np.isfinite(as_of):
        late = (month > as_of).to_numpy()
        reason = f"month after the as-of month {int(as_of)} (the loans' Snapshot_Month)"
        out.append(_reject_frame(late, frame, "Month", shown, reason))
    if len(month):
        centre = float(month.median())
        far = ((month - centre).abs() > MAX_SPAN_MONTHS).to_numpy()
        reason = (
            f"month far outside the book's span: more than {MAX_SPAN_MONTHS} months from the "
            f"panel's median month {int(centre)}"
        )
        out.append(_reject_frame(far, frame, "Month", shown, reason))
    return out


def _duplicate_rejects(frame: pd.DataFrame) -> list[pd.DataFrame]:
    """Repeated loan-months: identical copies keep the earliest row, conflicting ones go."""
    keys = ["Loan_ID", "Month"]
    repeated = frame.duplicated(keys, keep=False)
    if not repeated.any():
        return []
    dups = frame.loc[repeated]
    variants = dups.groupby(keys, sort=False)[list(_NON_NEGATIVE)].transform("nunique").max(axis=1)
    first = dups.groupby(keys, sort=False)["Row"].transform("min")
    rows = dups.groupby(keys, sort=False)["Row"].transform(lambda r: ", ".join(map(str, sorted(r))))
    conflicting = (variants > 1).to_numpy()
    copy = ~conflicting & (dups["Row"] != first).to_numpy()
    reason = pd.Series(
        np.where(
            conflicting,
            "the same Loan_ID and Month with different values at rows "
            + rows.astype(str)
            + "; every copy rejected",
            "duplicate loan-month: the same values as data row " + first.astype(str),
        ),
        index=dups.index,
    )
    shown = dups["Month"].astype("Int64")
    return [_reject_frame(conflicting | copy, dups, "Month", shown, reason)]


def _loan_rejects(frame: pd.DataFrame, loans: pd.DataFrame) -> list[pd.DataFrame]:
    out: list[pd.DataFrame] = []
    known = frame["Loan_ID"].isin(loans["Loan_ID"].astype("string").str.strip()).to_numpy()
    out.append(
        _reject_frame(
            ~known & frame["Loan_ID"].notna().to_numpy(),
            frame,
            "Loan_ID",
            frame["Loan_ID"],
            "loan in the payment panel but not in the loan table",
        )
    )
    if "Origination_Month" in loans.columns:
        orig = month_index(loans["Origination_Month"])
        orig.index = loans["Loan_ID"].astype("string").str.strip()
        orig = orig[~orig.index.duplicated()]
        start = frame["Loan_ID"].map(orig)
        early = (frame["Month"] < start).to_numpy()
        reason = "month before the loan's Origination_Month " + start.astype("Int64").astype(
            "string"
        )
        out.append(_reject_frame(early, frame, "Month", frame["Month"].astype("Int64"), reason))
    return out


def validate_panel(
    panel: pd.DataFrame,
    loans: pd.DataFrame | None = None,
    *,
    source: str = "payments.csv",
    extra_rejects: pd.DataFrame | None = None,
    row_numbers: np.ndarray | None = None,
    as_of: float | None = None,
    decimal: str = ".",
) -> PanelValidation:
    """Validate a payment panel against the row-level rules of this module.

    Parameters
    ----------
    panel : DataFrame
        The panel as read (text or typed), with at least :data:`PANEL_COLUMNS`.
    loans : DataFrame, optional
        The loan table; when given, panel rows of unknown loans (and months before
        ``Origination_Month``) are rejected.
    source : str
        File name used in error messages.
    extra_rejects : DataFrame, optional
        Rejects found before this step; they count as input rows. By default the CSV
        records that :func:`loanrecovery.io.read_table` skipped
        (``panel.attrs["malformed_rows"]``).
    row_numbers : ndarray, optional
        The file row number of each row of ``panel``, counting the header as row 1 as a
        spreadsheet does (default ``2 .. len(panel) + 1``).
    as_of : float, optional
        The as-of month; later months are rejected. By default the largest
        ``Snapshot_Month`` of ``loans`` (no such rule without it).
    decimal : {".", ","}, default="."
        The decimal mark of the amounts.

    Returns
    -------
    PanelValidation
        Accepted rows and rejects.

    Raises
    ------
    DataFileError
        If a required column is missing or the panel is empty.
    """
    if extra_rejects is None and row_numbers is None:
        extra_rejects, row_numbers = _malformed(panel)
    panel = match_columns(panel, PANEL_SPECS)
    _check_columns(panel, source)
    raw = panel.reset_index(drop=True)
    months, month_reasons = _months(raw["Month"])
    frame = pd.DataFrame(
        {
            "Loan_ID": raw["Loan_ID"].astype("string").str.strip(),
            "Row": (
                np.arange(2, len(raw) + 2, dtype=np.int64)
                if row_numbers is None
                else np.asarray(row_numbers, dtype=np.int64)
            ),
            "Month": months,
        }
    )
    reasons = {"Month": month_reasons}
    for col in _NON_NEGATIVE:
        parsed = parse_numbers(raw[col], decimal=decimal)
        frame[col] = parsed.values
        reasons[col] = parsed.problems
    parts = _value_rejects(frame, raw, reasons)
    clean = frame.loc[~frame["Row"].isin(_rows_of(parts))]
    clean = clean.sort_values(["Loan_ID", "Month", "Row"], kind="stable")
    if loans is not None:
        parts += _loan_rejects(clean, loans)
        clean = clean.loc[~clean["Row"].isin(_rows_of(parts))]
    parts += _span_rejects(clean, _as_of(loans) if as_of is None else as_of)
    clean = clean.loc[~clean["Row"].isin(_rows_of(parts))]
    parts += _duplicate_rejects(clean)
    if extra_rejects is not None:
        parts.append(extra_rejects)
    kept_parts = [p for p in parts if len(p)]
    if kept_parts:
        rejects = pd.concat(kept_parts, ignore_index=True)
    else:
        rejects = pd.DataFrame(columns=list(REJECT_COLUMNS))
    rejects = _one_line_per_row(rejects)
    accepted = frame.loc[~frame["Row"].isin(rejects["Row"])].copy()
    accepted["Month"] = accepted["Month"].astype("int64")
    accepted = accepted.sort_values(["Loan_ID", "Month"], kind="stable").reset_index(drop=True)
    n_rej = int(rejects["Row"].nunique()) if len(rejects) else 0
    n_in = len(raw) + (0 if extra_rejects is None else int(extra_rejects["Row"].nunique()))
    if len(accepted) + n_rej != n_in:  # pragma: no cover - an invariant, not user input
        raise AssertionError("panel validation lost rows")
    if n_rej:
        logger.warning("%s: %d of %d panel rows rejected", source, n_rej, n_in)
    return PanelValidation(accepted=accepted, rejects=rejects, n_rows_in=n_in)


def _as_of(loans: pd.DataFrame | None) -> float | None:
    """The as-of month of the loan table (its largest Snapshot_Month), if it has one."""
    if loans is None or "Snapshot_Month" not in loans.columns or not len(loans):
        return None
    months = month_index(loans["Snapshot_Month"])
    return float(months.max()) if months.notna().any() else None


def _rows_of(parts: list[pd.DataFrame]) -> np.ndarray:
    arrays = [p["Row"].to_numpy(dtype=np.int64) for p in parts if len(p)]
    return np.concatenate(arrays) if arrays else np.array([], dtype=np.int64)


def _one_line_per_row(rejects: pd.DataFrame) -> pd.DataFrame:
    """Collapse several problems of one row into one line, as the loan contract does."""
    if rejects.empty:
        return rejects
    rejects = rejects.sort_values(["Row"], kind="stable").reset_index(drop=True)
    first = ~rejects.duplicated("Row", keep="first")
    if first.all():
        return rejects
    text = rejects["Column"].astype(str) + " " + rejects["Value"].astype(str) + ": "
    text = text + rejects["Reason"].astype(str)
    also = text[~first].groupby(rejects.loc[~first, "Row"]).agg("; ".join)
    out = rejects.loc[first].reset_index(drop=True)
    extra = out["Row"].map(also)
    out["Reason"] = out["Reason"].where(extra.isna(), out["Reason"] + " (also " + extra + ")")
    return out


def _malformed(table: pd.DataFrame) -> tuple[pd.DataFrame | None, np.ndarray | None]:
    """Rejects for the CSV records the reader skipped, and the file rows of the others."""
    malformed = list(table.attrs.get(MALFORMED_ROWS, []))
    extra = None
    rows = None
    if malformed:
        # Line numbers count the header as line 1, as the Row column does.
        bad_rows = np.array([m[0] for m in malformed if m[0] is not None], dtype=np.int64)
        extra = pd.DataFrame(
            {
                "Loan_ID": pd.array([None] * len(bad_rows), dtype="string"),
                "Row": bad_rows,
                "Column": "(record)",
                "Value": [str(m[1])[:80] for m in malformed if m[0] is not None],
                "Reason": [
                    f"malformed CSV record: {m[2]} fields, expected {m[3]}"
                    for m in malformed
                    if m[0] is not None
                ],
            }
        )
        all_rows = np.arange(2, len(table) + len(bad_rows) + 2, dtype=np.int64)
        rows = all_rows[~np.isin(all_rows, bad_rows)][: len(table)]
    return extra, rows


def read_panel(path: str | Path, loans: pd.DataFrame | None = None) -> PanelValidation:
    """Read a payment panel (CSV or Parquet) and validate it.

    Parameters
    ----------
    path : str or Path
        ``payments.csv`` or a Parquet file in the same layout.
    loans : DataFrame, optional
        The loan table, for the "loan not in the loan table" rule.

    Returns
    -------
    PanelValidation

    Raises
    ------
    DataFileError
        If the file is missing, unreadable, lacks a required column or is empty.
    """
    path = Path(path)
    table = read_table(path)
    return validate_panel(table, loans, source=str(path))
