"""The reason catalogue: a feature, its value and its direction, as one plain sentence.

Every reason a reader sees is written here. The loan table's canonical features
(:mod:`loanrecovery.features`) have their own sentences ("3 missed payments", "instalment takes
48% of monthly income", "no collateral"); the one-hot columns of a categorical are read as one
reason ("self-employed borrower"). The payment-panel features of early warning have their
own catalogue, :func:`loanrecovery.early_warning.watchlist.describe_reason` with
:func:`~loanrecovery.early_warning.watchlist.reason_allowed` (early warning depends on this
package, so this module cannot import it). Columns of any other table get a
humanized name and, for numbers, where the value sits in the training population ("higher than
92% of training loans").

A reason never contradicts its value: for a feature whose direction is known (from the
catalogue, or from its rank correlation with the target at training time), a value on the safe
side of the training median (or 0 for counts of bad events) is never listed as raising risk,
and a value on the risky side is never listed as lowering it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "ReasonGroup",
    "reason_groups",
    "fit_reference",
    "readable_name",
    "LOWERS_SUFFIX",
]

#: Appended to a reason that lowers risk (risk-raising reasons are the bare sentence).
LOWERS_SUFFIX = " (lowers risk)"
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")
_PERCENTILES = np.linspace(0.0, 100.0, 101)
#: The values of a reason's columns in one row.
Values = tuple[Any, ...]


def readable_name(column: str) -> str:
    """``"NumberOfTimes90DaysLate"`` -> ``"Number of times 90 days late"``."""
    text = re.sub(r"[^0-9A-Za-z]+", " ", _CAMEL.sub(" ", str(column)))
    words = text.split()
    if not words:
        return "Unnamed column"
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return text[0].upper() + text[1:]


def number_text(value: float) -> str:
    """Up to 4 significant digits; thousands separators from 10,000; never ``1e6``."""
    if value != value:
        return "missing"
    if abs(value) >= 1e4:
        return f"{value:,.0f}"
    if float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.4g}" if abs(value) >= 1e-3 else f"{value:.2g}"


def _plural(n: float, word: str, zero: str) -> str:
    k = int(round(n))
    if k == 0:
        return zero
    return f"{k} {word}" if k == 1 else f"{k} {word}s"


def _money(v: float) -> str:
    return f"{v:,.0f}"


def fit_reference(frame: pd.DataFrame, y: np.ndarray) -> dict[str, np.ndarray]:
    """What the reasons need from the training data, per numeric column.

    Returns
    -------
    dict
        Column -> ``[direction, p0, p1, ..., p100]``: the sign of the column's rank
        correlation with the target (0 when weaker than two standard errors), then its 101
        percentiles. Plain arrays, so a model file stores them safely.
    """
    out: dict[str, np.ndarray] = {}
    y = np.asarray(y, dtype=float)
    for name in frame.columns:
        values = frame[name]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(numbers)
        if ok.sum() < 10:
            continue
        quantiles = np.percentile(numbers[ok], _PERCENTILES)
        direction = 0.0
        ranks = pd.Series(numbers[ok]).rank().to_numpy()
        if np.std(ranks) > 0 and np.std(y[ok]) > 0:
            rho = float(np.corrcoef(ranks, y[ok])[0, 1])
            if abs(rho) > 2.0 / np.sqrt(ok.sum()):
                direction = float(np.sign(rho))
        out[str(name)] = np.concatenate([[direction], quantiles])
    return out


def _position(value: float, quantiles: np.ndarray) -> float:
    """Share of the training population below ``value`` (ties count half), in [0, 1]."""
    below = np.searchsorted(quantiles, value, side="left")
    upto = np.searchsorted(quantiles, value, side="right")
    return float(np.clip((below + upto) / 2 - 0.5, 0, 100) / 100.0)


def _relative(value: float, quantiles: np.ndarray | None) -> str:
    if quantiles is None or value != value:
        return ""
    p = min(max(_position(value, quantiles), 0.01), 0.99)
    if 0.4 < p < 0.6:
        return ", near the middle of training loans"
    if p >= 0.5:
        return f", high: above {100 * p:.0f}% of training loans"
    return f", low: below {100 * (1 - p):.0f}% of training loans"


@dataclass(frozen=True)
class _Phrase:
    """How one canonical feature is written and which way it moves risk."""

    text: Callable[[float], str]
    direction: int = 0  # +1: higher is riskier; -1: higher is safer; 0: no fixed direction
    counts_bad: bool = False  # a count of bad events: 0 is the safe side, anything above risky
    relative: bool = False  # add where the value sits in the training population


_CANONICAL: dict[str, _Phrase] = {
    "Age": _Phrase(lambda v: f"borrower aged {v:.0f}"),
    "Monthly_Income": _Phrase(lambda v: f"monthly income {_money(v)}", -1, relative=True),
    "Num_Dependents": _Phrase(lambda v: _plural(v, "dependent", "no dependents")),
    "Loan_Amount": _Phrase(lambda v: f"loan amount {_money(v)}", relative=True),
    "Loan_Tenure": _Phrase(lambda v: f"{v:.0f}-month term"),
    "Interest_Rate": _Phrase(lambda v: f"interest rate {v:.1f}%", 1),
    "Outstanding_Loan_Amount": _Phrase(lambda v: f"{_money(v)} still owed", relative=True),
    "Monthly_EMI": _Phrase(lambda v: f"monthly instalment {_money(v)}", relative=True),
    "Num_Missed_Payments": _Phrase(
        lambda v: _plural(v, "missed payment", "no missed payments"), 1, counts_bad=True
    ),
    "Days_Past_Due": _Phrase(
        lambda v: "not past due" if v <= 0 else f"{v:.0f} days past due", 1, counts_bad=True
    ),
    "Utilization_Ratio": _Phrase(lambda v: f"{100 * v:.0f}% of the amount lent still owed"),
}


def _burden_text(burden: float) -> str:
    if burden >= 99.0:
        return "no monthly income recorded"
    return f"instalment takes {100 * burden:.0f}% of monthly income"


def _collateral_text(cover: float | None, value: float | None) -> str:
    if (cover is not None and cover <= 0) or (cover is None and value is not None and value <= 0):
        return "no collateral"
    if cover is not None:
        return f"collateral covers {100 * cover:.0f}% of the balance"
    return f"collateral worth {_money(float(value or 0.0))}"


#: Level words of the loan table's categoricals (value 1 of the one-hot), and level directions.
_LEVEL_TEXT: dict[str, Callable[[str], str]] = {
    "Employment_Type": lambda level: {
        "Business Owner": "business owner",
        "Unemployed": "unemployed borrower",
    }.get(level, f"{level.lower()} borrower"),
    "Loan_Type": lambda level: f"{level.lower()} loan",
    "Payment_History": lambda level: {
        "On-Time": "payments made on time",
        "Delayed": "payments delayed",
        "Missed": "payments missed",
    }.get(level, f"payment history {level.lower()}"),
}
_LEVEL_DIRECTION: dict[tuple[str, str], int] = {
    ("Employment_Type", "Unemployed"): 1,
    ("Payment_History", "On-Time"): -1,
    ("Payment_History", "Delayed"): 1,
    ("Payment_History", "Missed"): 1,
}


@dataclass(frozen=True)
class ReasonGroup:
    """Columns of a model matrix read as one reason.

    Attributes
    ----------
    columns : tuple of int
        Positions of the group's columns in the matrix.
    describe : callable
        Values of the group's columns (one row) -> sentence.
    allows : callable
        ``(values, raises)`` -> whether a reason with that direction may be shown.
    """

    columns: tuple[int, ...]
    describe: Callable[[Values], str]
    allows: Callable[[Values, bool], bool]


def _always(values: Values, raises: bool) -> bool:
    return True


def _directional(direction: float, pivot: float | None, counts_bad: bool) -> Callable[..., bool]:
    """A value on the safe side never raises risk; one on the risky side never lowers it."""

    def allows(values: Values, raises: bool) -> bool:
        v = values[0]
        if v != v:
            return True
        if counts_bad:
            return (v > 0) == raises
        if direction == 0 or pivot is None:
            return True
        side = direction * (v - pivot)
        return side > 0 if raises else side <= 0

    return allows


def _single(name: str, col: int, frame: pd.DataFrame, ref: dict[str, np.ndarray]) -> ReasonGroup:
    stats = ref.get(name)
    quantiles = stats[1:] if stats is not None else None
    median = float(quantiles[50]) if quantiles is not None else None
    phrase = _CANONICAL.get(name)
    if phrase is not None:
        direction = phrase.direction or (float(stats[0]) if stats is not None else 0.0)

        def text(values: Values, p: _Phrase = phrase) -> str:
            v = values[0]
            if v != v:
                return f"{readable_name(name).lower()} unknown"
            return p.text(v) + (_relative(v, quantiles) if p.relative else "")

        return ReasonGroup((col,), text, _directional(direction, median, phrase.counts_bad))
    label = readable_name(name)
    if pd.api.types.is_numeric_dtype(frame[name]) and not pd.api.types.is_bool_dtype(frame[name]):

        def numeric(values: Values) -> str:
            v = float(values[0])
            if v != v:
                return f"{label} missing"
            return f"{label} {number_text(v)}{_relative(v, quantiles)}"

        direction = float(stats[0]) if stats is not None else 0.0
        return ReasonGroup((col,), numeric, _directional(direction, median, False))

    def category(values: Values) -> str:
        v = values[0]
        return f"{label} missing" if pd.isna(v) else f"{label}: {v}"

    return ReasonGroup((col,), category, _always)


def _onehot(name: str, cols: list[tuple[int, str]]) -> ReasonGroup:
    levels = [level for _, level in cols]
    words = _LEVEL_TEXT.get(name, lambda level: f"{readable_name(name).lower()} {level}")

    def present(values: Values) -> str | None:
        hits = [levels[i] for i, v in enumerate(values) if v == 1]
        return hits[0] if len(hits) == 1 else None

    def text(values: Values) -> str:
        level = present(values)
        return words(level) if level is not None else f"{readable_name(name).lower()} unknown"

    def allows(values: Values, raises: bool) -> bool:
        level = present(values)
        direction = _LEVEL_DIRECTION.get((name, level or ""), 0)
        return direction == 0 or (direction > 0) == raises

    return ReasonGroup(tuple(c for c, _ in cols), text, allows)


_EMI_GROUP = ("EMI_Burden", "Income_to_EMI_Ratio")
_COLLATERAL_GROUP = ("Collateral_Cover", "Collateral_Value")


def _burden_group(where: dict[str, int]) -> ReasonGroup:
    names = [n for n in _EMI_GROUP if n in where]

    def burden(values: Values) -> float:
        given = dict(zip(names, values, strict=True))
        if "EMI_Burden" in given:
            return float(given["EMI_Burden"])
        ratio = float(given["Income_to_EMI_Ratio"])
        return 100.0 if ratio <= 0 else 1.0 / ratio

    def allows(values: Values, raises: bool) -> bool:
        return True

    return ReasonGroup(tuple(where[n] for n in names), lambda v: _burden_text(burden(v)), allows)


def _collateral_group(where: dict[str, int]) -> ReasonGroup:
    names = [n for n in _COLLATERAL_GROUP if n in where]

    def text(values: Values) -> str:
        given = dict(zip(names, values, strict=True))
        return _collateral_text(given.get("Collateral_Cover"), given.get("Collateral_Value"))

    def allows(values: Values, raises: bool) -> bool:
        none = text(values) == "no collateral"
        return raises or not none  # having no collateral never lowers risk

    return ReasonGroup(tuple(where[n] for n in names), text, allows)


def reason_groups(
    frame: pd.DataFrame, reference: dict[str, np.ndarray] | None = None
) -> list[ReasonGroup]:
    """The reasons a model matrix's columns are read as, in column order of first use.

    Parameters
    ----------
    frame : DataFrame
        The model matrix (canonical loan features or the columns of any table).
    reference : dict, optional
        :func:`fit_reference` of the training data (directions and percentiles).
    """
    ref = reference or {}
    names = [str(c) for c in frame.columns]
    where = {n: i for i, n in enumerate(names)}
    groups: list[ReasonGroup] = []
    onehots: dict[str, list[tuple[int, str]]] = {}
    done: set[str] = set()
    for i, name in enumerate(names):
        if "=" in name:
            base, level = name.split("=", 1)
            if base not in onehots:
                onehots[base] = []
                groups.append(ReasonGroup((), _never_text, _always))  # placeholder, filled below
                onehots[base].append((len(groups) - 1, ""))
            onehots[base].append((i, level))
        elif name in done:
            continue
        elif name in _EMI_GROUP:
            done.update(_EMI_GROUP)
            groups.append(_burden_group(where))
        elif name in _COLLATERAL_GROUP:
            done.update(_COLLATERAL_GROUP)
            groups.append(_collateral_group(where))
        else:
            groups.append(_single(name, i, frame, ref))
    for base, entries in onehots.items():
        slot = entries[0][0]
        groups[slot] = _onehot(base, entries[1:])
    return groups


def _never_text(values: Values) -> str:
    return ""
