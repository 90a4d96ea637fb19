"""Any loan table to a model-ready frame: target parsing, column roles and the leak guard.

:func:`prepare_table` takes a raw table (every column as read from the file) and returns a
:class:`PreparedTable`: the 0/1 target, the feature frame (numeric columns as ``float64``,
categorical columns as pandas ``category``) and, for every column left out, the reason.

Column roles, decided from the data alone (no canonical names needed):

* ``numeric``: numbers, including text numbers such as ``"$60,000.00 "``, ``"12%"``, ``"1 234"``;
* ``categorical``: text with few distinct values;
* ``id``: an identifier (``--id``, or unique text, or a unique integer column named like an id);
* ``free text``: text with many distinct values (names, addresses, comments);
* ``date``: dates (they identify a period rather than describe a borrower; use ``--time-col``);
* ``protected``: sex/gender, race, religion, national origin, marital status (kept only with
  ``allow_protected``);
* ``constant``: a single value;
* ``leak``: a single column that predicts the target almost perfectly (AUC >= 0.97 on its
  own), typically an outcome recorded after the fact (a charge-off date or amount).
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from loanrecovery.contract.numbers import DECIMAL_COMMA, parse_numbers
from loanrecovery.contract.schema import Role, columns_with_role
from loanrecovery.contract.validate import REJECT_COLUMNS
from loanrecovery.delinquency import DEFAULT_DPD, FUTURE_TARGET, closed_loans
from loanrecovery.exceptions import DataFileError, DataQualityWarning
from loanrecovery.modeling.table_checks import TableRejects, check_rows, header_rows

__all__ = [
    "PreparedTable",
    "TargetSummary",
    "prepare_table",
    "parse_target",
    "column_roles",
    "coerce_features",
    "find_leaks",
    "PROTECTED_PATTERN",
    "LEAK_AUC",
]

logger = logging.getLogger(__name__)

#: Single-column AUC (either direction) from which a column is treated as a target leak.
LEAK_AUC = 0.97
#: Text columns with at most this many distinct values (or this share of rows) are categorical.
MAX_CATEGORIES = 100
_MAX_CATEGORY_SHARE = 0.05
#: Share of non-missing text values that must parse as numbers for a column to be numeric.
_NUMERIC_SHARE = 0.98

#: Column names that name a protected attribute.
PROTECTED_PATTERN = re.compile(
    r"(^|[^a-z])(sex|gender|race|ethnic\w*|religio\w*|nationality|national_?origin|"
    r"country_?of_?birth|marital\w*|personal_?status\w*|foreign\w*)($|[^a-z])",
    re.IGNORECASE,
)
_ID_NAME = re.compile(r"(^|[^a-z])(id|nr|no|num|number|key|code)$|_id$|^id", re.IGNORECASE)
#: Share of distinct values from which a text (or whole-number id-named) column is an id.
_NEAR_UNIQUE = 0.95
#: Mean length (characters) from which text is free text rather than categories.
_LONG_TEXT = 60
_DATE_HINT = re.compile(r"\d{1,4}[-/.][A-Za-z0-9]{1,3}[-/.]\d{1,4}")


@dataclass
class TargetSummary:
    """How the target column was read.

    Attributes
    ----------
    column : str
        The target column.
    positive : str
        The value counted as 1 (the bad outcome).
    negative : list of str
        The value(s) counted as 0.
    n_missing : int
        Rows whose target is missing.
    n_other : int
        Rows whose target is neither class: for a 0/1 (true/false, yes/no) target read without
        ``positive``, any other value. With ``positive`` given, every other value counts as 0.
    """

    column: str
    positive: str
    negative: list[str]
    n_missing: int = 0
    n_other: int = 0
    n_not_modelled: int = 0


@dataclass
class PreparedTable:
    """A loan table ready for modelling.

    Attributes
    ----------
    X : DataFrame
        Features: numeric columns as float64, categorical ones as ``category``.
    y : ndarray of int
        The target (1 = positive class).
    target : TargetSummary
        How the target was read.
    roles : dict
        Column -> role, for every column of the input table.
    excluded : dict
        Column -> reason, for every column left out of ``X``.
    protected : DataFrame
        Protected-attribute columns of the kept rows (for the fairness table).
    time : Series or None
        The time column of the kept rows, parsed to numbers (years, or days since 1970).
    n_input_rows : int
        Rows of the input table.
    """

    X: pd.DataFrame
    y: np.ndarray
    target: TargetSummary
    roles: dict[str, str]
    excluded: dict[str, str]
    protected: pd.DataFrame
    time: pd.Series | None = None
    n_input_rows: int = 0
    leaks: dict[str, float] = field(default_factory=dict)
    rejects: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECT_COLUMNS))
    value_problems: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def n_excluded(self) -> int:
        """Rows left out: target missing or not one of the two classes, or (on the canonical
        layout with the future target) loans already in default or closed at the snapshot."""
        return self.target.n_missing + self.target.n_other + self.target.n_not_modelled


def _label(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_target(
    values: pd.Series,
    *,
    positive: str | None = None,
    negative: tuple[str, ...] = (),
    source: str = "data",
) -> tuple[np.ndarray, TargetSummary]:
    """Read a target column as 0/1 with NaN for rows that cannot be used.

    Parameters
    ----------
    values : Series
        The raw target column.
    positive : str, optional
        The value meaning "bad". Without it a 0/1 (or true/false) target uses 1 (true).
    negative : tuple of str, optional
        The value(s) meaning "good"; other values are counted and excluded. By default every
        value but ``positive`` is good, with a warning when there are several.
    source : str
        File name, for error messages.

    Returns
    -------
    y : ndarray of float
        1.0, 0.0, or NaN (missing or another value).
    summary : TargetSummary

    Raises
    ------
    DataFileError
        No ``positive`` given and the target is not 0/1, or ``positive`` or a ``negative``
        value is not a value of the column, or fewer than two classes remain.
    """
    column = str(values.name)
    missing = values.isna() | values.astype(str).str.strip().isin(["", "nan", "NaN", "None"])
    labels = values.where(~missing).map(lambda v: None if v is None else _label(v))
    labels = labels.where(~missing)
    found = labels.dropna().value_counts()
    shown = ", ".join(f"{k!r} ({v})" for k, v in found.head(10).items())
    by_lower = {str(k).lower(): str(k) for k in found.index}
    negatives: list[str] | None = None
    if positive is None:
        for pos, neg in (("1", "0"), ("true", "false"), ("yes", "no")):
            if pos in by_lower and neg in by_lower:
                positive, negatives = by_lower[pos], [by_lower[neg]]
                break
        else:
            raise DataFileError(
                source,
                f"the target has the values {shown}; it is not 0/1, so say which value means "
                "the bad outcome with --positive VALUE",
                column=column,
            )
    positive = _label(positive)
    if positive not in found.index:
        raise DataFileError(
            source,
            f"--positive {positive!r} is not a value of the target; found {shown}",
            column=column,
        )
    if negative:
        negatives = [_label(v) for v in negative]
        unknown = [v for v in negatives if v not in found.index or v == positive]
        if unknown:
            raise DataFileError(
                source,
                f"--negative {unknown[0]!r} is not a value of the target other than the "
                f"positive; found {shown}",
                column=column,
            )
    elif negatives is None:
        negatives = [str(k) for k in found.index if k != positive]
        if len(negatives) > 1:
            listed = ", ".join(f"{k!r} ({found[k]})" for k in negatives[:10])
            warnings.warn(
                f"{source}: target {column!r}: every value but {positive!r} is taken as the good "
                f"outcome: {listed}; pass --negative to name the good value(s) and leave the "
                "others (e.g. loans still running) out",
                DataQualityWarning,
                stacklevel=2,
            )
    usable = labels.isin([positive, *negatives])
    other = ~missing & ~usable
    y = np.where(usable, (labels == positive).astype(float), np.nan)
    summary = TargetSummary(
        column=column,
        positive=positive,
        negative=negatives,
        n_missing=int(missing.sum()),
        n_other=int(other.sum()),
    )
    kept = y[~np.isnan(y)]
    if kept.size == 0 or kept.min() == kept.max():
        raise DataFileError(
            source,
            f"the target needs both classes; found {shown} with {positive!r} as positive",
            column=column,
        )
    return y, summary


def _parse_numbers(text: pd.Series) -> pd.Series:
    """Text numbers to floats with the product's one parser
    (:func:`~loanrecovery.contract.numbers.parse_numbers`); refused values become NaN."""
    return parse_numbers(text).values


def _looks_like_dates(text: pd.Series) -> bool:
    sample = text.dropna().astype(str).head(200)
    if sample.empty or not sample.str.contains(_DATE_HINT).mean() > 0.9:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() > 0.9)


def _is_identifier(name: str, numbers: pd.Series) -> bool:
    """Whole numbers, near-unique, in a column named like an identifier."""
    present = numbers.dropna()
    if present.empty or not _ID_NAME.search(name):
        return False
    values = present.to_numpy(dtype=float)
    whole = float(np.mean(np.isfinite(values) & (np.mod(values, 1) == 0))) >= _NUMERIC_SHARE
    return whole and present.nunique() >= _NEAR_UNIQUE * len(present)


def _role_of_text(name: str, text: pd.Series, n_rows: int) -> str:
    present = text.dropna()
    if present.empty:
        return "constant"
    parsed = parse_numbers(present)
    numbers = parsed.values
    if numbers.notna().mean() >= _NUMERIC_SHARE:
        return "id" if _is_identifier(name, numbers) else "numeric text"
    decimal_comma = (parsed.problems == DECIMAL_COMMA).mean()
    if decimal_comma > 0 and numbers.notna().mean() + decimal_comma >= _NUMERIC_SHARE:
        return "decimal comma"
    if _looks_like_dates(present):
        return "date"
    n_unique = present.nunique()
    if n_unique <= 1:
        return "constant"
    if n_unique >= _NEAR_UNIQUE * len(present) and len(present) > 20:
        words = present.astype(str).str.split().str.len().mean()
        return "free text" if words >= 3 else "id"
    if present.astype(str).str.len().mean() > _LONG_TEXT:
        return "free text"
    if n_unique <= max(MAX_CATEGORIES, 0) or n_unique <= _MAX_CATEGORY_SHARE * n_rows:
        if n_unique <= MAX_CATEGORIES:
            return "categorical"
    return "free text"


def _role_of_column(name: str, values: pd.Series, n_rows: int) -> str:
    if pd.api.types.is_bool_dtype(values):
        return "numeric"
    if pd.api.types.is_numeric_dtype(values):
        present = values.dropna()
        if present.nunique() <= 1:
            return "constant"
        finite = present[np.isfinite(present.to_numpy(dtype=float))]
        return "id" if _is_identifier(name, finite) else "numeric"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "date"
    return _role_of_text(name, values, n_rows)


#: Canonical treatment columns (actions taken because of the risk): never features.
_TREATMENT_COLUMNS = frozenset(columns_with_role(Role.TREATMENT))
#: Canonical outcome columns and the simulator's columns written after the fact (the future
#: target, the loan's final status and the month it was last seen): never features.
_OUTCOME_COLUMNS = frozenset(
    [*columns_with_role(Role.OUTCOME), FUTURE_TARGET, "Loan_Status", "Last_Month", "Snapshot_Month"]
)


def settled_or_defaulted(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """On the canonical layout, the loans already in default (90+ days past due) and the
    closed ones (nothing owed); both all False without the canonical columns."""
    if not {"Days_Past_Due", "Outstanding_Loan_Amount"} <= set(frame.columns):
        none = np.zeros(len(frame), dtype=bool)
        return none, none
    dpd = pd.to_numeric(frame["Days_Past_Due"], errors="coerce").fillna(0.0).to_numpy()
    return dpd >= DEFAULT_DPD, closed_loans(frame)


def _not_modelled(frame: pd.DataFrame, target: str) -> np.ndarray:
    """On the canonical layout with the future target, the loans `run` does not model
    either: already 90+ days past due (in default) or closed (nothing owed)."""
    if target != FUTURE_TARGET:
        return np.zeros(len(frame), dtype=bool)
    in_default, closed = settled_or_defaulted(frame)
    return in_default | closed


def column_roles(
    frame: pd.DataFrame,
    *,
    target: str,
    id_columns: tuple[str, ...] = (),
    drop: tuple[str, ...] = (),
    allow_protected: bool = False,
    time_col: str | None = None,
) -> dict[str, str]:
    """Role of every column of ``frame`` (see the module docstring)."""
    roles: dict[str, str] = {}
    n_rows = len(frame)
    for name in frame.columns:
        if name == target:
            roles[name] = "target"
        elif name == time_col:
            roles[name] = "time"
        elif name in id_columns:
            roles[name] = "id"
        elif name in drop:
            roles[name] = "dropped"
        elif PROTECTED_PATTERN.search(str(name)) and not allow_protected:
            roles[name] = "protected"
        elif name in _TREATMENT_COLUMNS:
            roles[name] = "treatment"
        elif name in _OUTCOME_COLUMNS:
            roles[name] = "outcome"
        else:
            roles[name] = _role_of_column(str(name), frame[name], n_rows)
    return roles


def coerce_features(frame: pd.DataFrame, roles: dict[str, str]) -> pd.DataFrame:
    """Feature columns converted to their modelling types.

    Numeric and numeric-text columns become float64 (text that is not a number becomes NaN);
    categorical ones become ``category`` with their values as text.
    """
    columns: dict[str, pd.Series] = {}
    for name, role in roles.items():
        if name not in frame.columns:
            continue
        values = frame[name]
        if role == "numeric":
            columns[name] = pd.to_numeric(values, errors="coerce").astype("float64")
        elif role == "numeric text":
            if pd.api.types.is_numeric_dtype(values):
                columns[name] = values.astype("float64")
            else:
                columns[name] = _parse_numbers(values.where(values.notna())).astype("float64")
        elif role == "categorical":
            text = values.where(values.isna(), values.astype(str).str.strip())
            columns[name] = text.astype("category")
    out = pd.DataFrame(columns, index=frame.index)
    return out.replace([np.inf, -np.inf], np.nan)


def _single_column_auc(values: pd.Series, y: np.ndarray) -> float:
    """AUC of one column on its own, either direction, missing values as their own level."""
    if isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object:
        codes = values.astype(str).fillna("<missing>")
        # Out-of-fold target rate per level, so that many small levels cannot fake a leak.
        half = np.arange(len(codes)) % 2 == 0
        score = np.empty(len(codes))
        for fit_part in (half, ~half):
            rates = pd.Series(y[fit_part]).groupby(codes[fit_part].to_numpy()).mean()
            mapped = codes[~fit_part].map(rates).fillna(y[fit_part].mean())
            score[~fit_part] = mapped.to_numpy(dtype=float)
    else:
        numbers = values.to_numpy(dtype=float)
        finite = numbers[np.isfinite(numbers)]
        low = finite.min() - 1.0 if finite.size else 0.0
        score = np.where(np.isnan(numbers), low, numbers)
    auc = roc_auc_score(y, score)
    return float(max(auc, 1.0 - auc))


def find_leaks(X: pd.DataFrame, y: np.ndarray, *, threshold: float = LEAK_AUC) -> dict[str, float]:
    """Columns that predict ``y`` almost perfectly on their own, with their AUC."""
    leaks: dict[str, float] = {}
    for name in X.columns:
        auc = _single_column_auc(X[name], y)
        if auc >= threshold:
            leaks[str(name)] = auc
    return leaks


def _parse_time(values: pd.Series, source: str) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float)
    numbers = _parse_numbers(values.where(values.notna()))
    if numbers.notna().mean() >= _NUMERIC_SHARE:
        return numbers
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dates = pd.to_datetime(values, errors="coerce", format="mixed")
    if dates.notna().mean() < 0.9:
        raise DataFileError(
            source,
            "the time column must hold numbers (e.g. a year) or dates; "
            f"{int(dates.isna().sum())} values are neither",
            column=str(values.name),
        )
    return (dates - pd.Timestamp("1970-01-01")).dt.days.astype(float)


def _check_columns(frame: pd.DataFrame, names: list[str | None], source: str) -> None:
    for name in names:
        if name is not None and name not in frame.columns:
            shown = ", ".join(map(str, list(frame.columns)[:30]))
            raise DataFileError(
                source, f"column {name!r} not found; the table has: {shown}", column=name
            )


def _check_rows(
    frame: pd.DataFrame,
    target: str,
    id_columns: tuple[str, ...],
    drop: tuple[str, ...],
    allow_protected: bool,
    time_col: str | None,
    strict: bool,
) -> TableRejects:
    """Rows out before modelling: header rows, malformed records, (strict) bad numbers."""
    clean = frame.loc[~header_rows(frame)]
    roles = column_roles(
        clean,
        target=target,
        id_columns=tuple(id_columns),
        drop=tuple(drop),
        allow_protected=allow_protected,
        time_col=time_col,
    )
    numeric = [name for name, role in roles.items() if role in {"numeric", "numeric text"}]
    ids = [name for name, role in roles.items() if role == "id"]
    return check_rows(frame, numeric, strict=strict, id_column=ids[0] if ids else None)


def report_value_problems(problems: dict[str, dict[str, int]], source: str, strict: bool) -> None:
    """Warn, per numeric column, how many values were not finite numbers and what was done."""
    for name, counts in problems.items():
        listed = "; ".join(f"{count} {reason}" for reason, count in counts.items())
        action = "rows rejected" if strict else "read as missing (--strict rejects the rows)"
        warnings.warn(
            f"{source}: numeric column {name!r}: {listed}; {action}",
            DataQualityWarning,
            stacklevel=3,
        )


def prepare_table(
    frame: pd.DataFrame,
    *,
    target: str,
    positive: str | None = None,
    negative: tuple[str, ...] = (),
    id_columns: tuple[str, ...] = (),
    drop: tuple[str, ...] = (),
    allow_protected: bool = False,
    time_col: str | None = None,
    leak_threshold: float = LEAK_AUC,
    source: str = "data",
    strict: bool = False,
) -> PreparedTable:
    """Turn a raw loan table into features and a 0/1 target (see the module docstring).

    Parameters
    ----------
    frame : DataFrame
        The table as read.
    target : str
        Target column.
    positive : str, optional
        Target value meaning "bad" (default: 1 for a 0/1 target).
    negative : tuple of str, optional
        Target value(s) meaning "good" (default: every other value); other values are left
        out and counted.
    id_columns, drop : tuple of str
        Columns to leave out.
    allow_protected : bool, default=False
        Keep columns that name a protected attribute as features.
    time_col : str, optional
        Column ordering the rows in time (for an out-of-time split); never a feature.
    leak_threshold : float
        Single-column AUC from which a column is dropped as a leak.
    source : str
        File name for messages.
    strict : bool, default=False
        Reject rows holding a value that is not a finite number in a numeric column (by
        default such values are counted per column, reported, and read as missing).

    Returns
    -------
    PreparedTable
        With ``rejects``: repeated header rows, malformed records and (``strict``) rows with
        a refused number, in the contract's rejects layout.
    """
    _check_columns(frame, [target, time_col, *id_columns, *drop], source)
    n_records = len(frame) + len(frame.attrs.get("malformed_rows", []))
    checked = _check_rows(frame, target, id_columns, drop, allow_protected, time_col, strict)
    frame = frame.loc[checked.keep].reset_index(drop=True)
    report_value_problems(checked.problems, source, strict)
    y_all, summary = parse_target(
        frame[target], positive=positive, negative=negative, source=source
    )
    keep = ~np.isnan(y_all)
    roles = column_roles(
        frame,
        target=target,
        id_columns=tuple(id_columns),
        drop=tuple(drop),
        allow_protected=allow_protected,
        time_col=time_col,
    )
    not_modelled = _not_modelled(frame, target) & keep
    summary.n_not_modelled = int(not_modelled.sum())
    keep &= ~not_modelled
    kept = frame.loc[keep].reset_index(drop=True)
    y = y_all[keep].astype(int)
    X = coerce_features(kept, roles)
    leaks = find_leaks(X, y, threshold=leak_threshold)
    for name, auc in leaks.items():
        roles[name] = "leak"
        warnings.warn(
            f"{source}: column {name!r} predicts the target almost perfectly on its own "
            f"(AUC {auc:.3f}); it is dropped as a leak",
            DataQualityWarning,
            stacklevel=2,
        )
    X = X.drop(columns=list(leaks))
    commas = [name for name, role in roles.items() if role == "decimal comma"]
    if commas:
        raise DataFileError(
            source,
            f"numbers written with a decimal comma (e.g. {frame[commas[0]].dropna().iloc[0]!r}); "
            "they would be read 100- or 1,000-fold wrong; read the file with --decimal ',' "
            "(or convert it to '.' as the decimal mark, or drop the column with --drop)",
            column=str(commas[0]),
        )
    if X.shape[1] == 0:
        raise DataFileError(source, "no usable feature column is left after exclusions")
    excluded = {
        name: role
        for name, role in roles.items()
        if role not in {"numeric", "numeric text", "categorical", "target"}
    }
    protected_cols = [
        name for name in frame.columns if PROTECTED_PATTERN.search(str(name)) and name != target
    ]
    protected = (
        kept[protected_cols].astype(str) if protected_cols else pd.DataFrame(index=kept.index)
    )
    time = _parse_time(kept[time_col], source) if time_col is not None else None
    logger.info(
        "%s: %d rows kept, %d excluded; %d features; excluded columns %s",
        source,
        len(y),
        summary.n_missing,
        X.shape[1],
        excluded,
    )
    return PreparedTable(
        X=X,
        y=y,
        target=summary,
        roles=roles,
        excluded=excluded,
        protected=protected,
        time=time,
        n_input_rows=n_records,
        leaks=leaks,
        rejects=checked.rejects,
        value_problems=checked.problems,
    )
