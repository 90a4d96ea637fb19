"""Reason codes in plain words from per-feature contributions to the log-odds score.

A loan's reasons are the features with the largest contributions to its score, risk-raising
first: ``"Days past due 95 — raises risk"``. Contributions add up, with the model's expected
value, to the loan's log-odds score (see :mod:`loanrecovery.modeling.candidates`), so the
reasons are exactly the model's own account of the score.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from loanrecovery.delinquency import DEFAULT_DPD

__all__ = ["readable_name", "format_values", "reason_codes", "IN_DEFAULT_REASON"]

#: The reason given to a loan already in default instead of the model's reasons.
IN_DEFAULT_REASON = f"Already {DEFAULT_DPD}+ days past due (in default)"

_RAISES = " — raises risk"
_LOWERS = " — lowers risk"
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")


def readable_name(column: str) -> str:
    """``"NumberOfTimes90DaysLate"`` -> ``"Number of times 90 days late"``."""
    words = _CAMEL.sub(" ", str(column)).replace("_", " ").replace("-", " ").split()
    if not words:
        return str(column)
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return text[0].upper() + text[1:]


def format_values(values: pd.Series) -> np.ndarray:
    """Short text of each value: numbers with up to 4 significant digits (whole numbers with
    thousands separators from 10,000), ``missing`` for NaN."""
    if isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object:
        text = values.astype(str).to_numpy(dtype=object)
        text[values.isna().to_numpy()] = "missing"
        return text
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    text, index = _unique_texts(numbers)
    return text[index]


def _unique_texts(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The text of each distinct number (formatted once) and each row's index into it."""
    distinct, index = np.unique(numbers, return_inverse=True)
    return np.array([_number(v) for v in distinct], dtype=object), index.ravel()


def _phrases(name: str, values: pd.Series, raises: np.ndarray) -> np.ndarray:
    """``"<name> <value> — raises risk"`` (or lowers), each distinct phrase built once."""
    if isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object:
        text, index = np.unique(format_values(values).astype(str), return_inverse=True)
        text = text.astype(object)
    else:
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        text, index = _unique_texts(numbers)
    up = np.array([f"{name} {t}{_RAISES}" for t in text], dtype=object)
    down = np.array([f"{name} {t}{_LOWERS}" for t in text], dtype=object)
    index = index.ravel()
    return np.where(raises, up[index], down[index])


def _number(value: float) -> str:
    if value != value:
        return "missing"
    if abs(value) >= 1e15:
        return f"{value:.3e}"
    if abs(value) >= 1e4:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def reason_codes(contributions: np.ndarray, X: pd.DataFrame, n_reasons: int = 4) -> pd.DataFrame:
    """The ``n_reasons`` largest contributions of each row, in words.

    Parameters
    ----------
    contributions : ndarray of shape (n_rows, n_features)
        Per-feature moves of the log-odds score, columns in the order of ``X``.
    X : DataFrame
        The features (for the values quoted in the reasons).
    n_reasons : int, default=4

    Returns
    -------
    DataFrame
        Columns ``reason_1`` ... ``reason_n``: most risk-raising first; features that lower
        risk follow when fewer than ``n_reasons`` raise it; empty when a feature had no effect.
    """
    n_rows, n_features = contributions.shape
    k = int(min(n_reasons, n_features))
    if k <= 0:
        return pd.DataFrame(index=X.index)
    if k < n_features:
        top = np.argpartition(-contributions, k - 1, axis=1)[:, :k]
        order = np.take_along_axis(contributions, top, axis=1).argsort(axis=1)[:, ::-1]
        top = np.take_along_axis(top, order, axis=1)
    else:
        top = np.argsort(-contributions, axis=1)
    names = [readable_name(c) for c in X.columns]
    out: dict[str, np.ndarray] = {}
    for rank in range(k):
        column = np.full(n_rows, "", dtype=object)
        chosen = top[:, rank]
        effect = contributions[np.arange(n_rows), chosen]
        for f in np.unique(chosen):
            rows = np.flatnonzero((chosen == f) & (effect != 0))
            if rows.size == 0:
                continue
            column[rows] = _phrases(names[f], X.iloc[rows, f], effect[rows] > 0)
        out[f"reason_{rank + 1}"] = column
    for rank in range(k, n_reasons):
        out[f"reason_{rank + 1}"] = np.full(n_rows, "", dtype=object)
    return pd.DataFrame(out, index=X.index)
