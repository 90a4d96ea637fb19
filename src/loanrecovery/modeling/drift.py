"""Population drift: the population stability index (PSI) per feature and of the score.

``PSI = sum((actual% - expected%) * ln(actual% / expected%))`` over bins fixed at training
time (deciles of numeric features plus a missing bin; categories plus an "other" bin). The
usual reading: below 0.1 stable, 0.1 to 0.25 some shift, above 0.25 a significant shift.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "DriftReference",
    "merge_bin_counts",
    "SCORE_KEY",
    "ROWS_KEY",
    "psi",
    "psi_band",
    "PSI_STABLE",
    "PSI_SIGNIFICANT",
    "PSI_BANDS_TEXT",
]

_EPS = 1e-4

#: A PSI below this is ``stable``.
PSI_STABLE = 0.1
#: A PSI above this is a ``significant shift`` (between the two: ``moderate shift``).
PSI_SIGNIFICANT = 0.25
#: The bands in words, for people reading a PSI.
PSI_BANDS_TEXT = (
    f"< {PSI_STABLE:g} stable, {PSI_STABLE:g}-{PSI_SIGNIFICANT:g} moderate shift, "
    f"> {PSI_SIGNIFICANT:g} significant shift"
)


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """PSI between two vectors of bin shares (each summing to 1)."""
    e = np.maximum(np.asarray(expected, dtype=float), _EPS)
    a = np.maximum(np.asarray(actual, dtype=float), _EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_band(value: float) -> str:
    """``stable`` (< 0.1), ``moderate shift`` (0.1-0.25) or ``significant shift`` (> 0.25)
    (:data:`PSI_STABLE`, :data:`PSI_SIGNIFICANT`)."""
    if value < PSI_STABLE:
        return "stable"
    if value <= PSI_SIGNIFICANT:
        return "moderate shift"
    return "significant shift"


#: Key of the score's bin counts in :meth:`DriftReference.bin_counts`.
SCORE_KEY = "__score__"
#: Key of the number of rows counted in :meth:`DriftReference.bin_counts`.
ROWS_KEY = "__rows__"


def _numeric_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    missing = np.isnan(values)
    index = np.searchsorted(edges, values, side="right")
    counts = np.bincount(index[~missing], minlength=len(edges) + 1).astype(float)
    return np.append(counts, missing.sum())


def _numeric_bins(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return _numeric_counts(values, edges) / max(len(values), 1)


def _category_counts(values: pd.Series, categories: list[str]) -> np.ndarray:
    text = values.astype(str).where(values.notna(), "<missing>")
    counts = text.value_counts()
    shares = [float(counts.get(c, 0)) for c in categories]
    other = float(len(text)) - sum(shares)
    return np.append(shares, other)


def _category_bins(values: pd.Series, categories: list[str]) -> np.ndarray:
    return _category_counts(values, categories) / max(len(values), 1)


def merge_bin_counts(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Bin counts of several parts of a table (:meth:`DriftReference.bin_counts`) added up:
    the counts of the whole table, so its PSI is the one of the table read at once."""
    if not parts:
        raise ValueError("no bin counts to merge")
    return {key: np.sum([part[key] for part in parts], axis=0) for key in parts[0]}


class DriftReference(BaseEstimator):
    """Training-time bins and shares of each feature and of the score.

    Attributes
    ----------
    bins_ : dict
        Column -> ``("numeric", edges, shares)`` or ``("categorical", categories, shares)``.
    score_edges_, score_shares_ : ndarray
        Decile bins of the training PD.
    """

    def fit(self, X: pd.DataFrame, score: np.ndarray) -> DriftReference:
        """Record the bins and shares of ``X`` and of ``score`` (the PD)."""
        self.bins_: dict[str, tuple[Any, ...]] = {}
        for name in X.columns:
            values = X[name]
            if isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object:
                text = values.astype(str).where(values.notna(), "<missing>")
                categories = sorted(text.value_counts().head(50).index.tolist())
                self.bins_[str(name)] = (
                    "categorical",
                    categories,
                    _category_bins(values, categories),
                )
            else:
                numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
                finite = numbers[np.isfinite(numbers)]
                edges = (
                    np.unique(np.quantile(finite, np.linspace(0.1, 0.9, 9)))
                    if finite.size
                    else np.array([])
                )
                self.bins_[str(name)] = ("numeric", edges, _numeric_bins(numbers, edges))
        score = np.asarray(score, dtype=float)
        self.score_edges_ = np.unique(np.quantile(score, np.linspace(0.1, 0.9, 9)))
        self.score_shares_ = _numeric_bins(score, self.score_edges_)
        return self

    def bin_counts(self, X: pd.DataFrame, score: np.ndarray) -> dict[str, np.ndarray]:
        """Rows of ``X`` in each training-time bin of each feature and of ``score``.

        Counts of parts of a table add up (:func:`merge_bin_counts`), so a table scored
        partition by partition gets the PSI of the whole table (:meth:`compare_counts`).
        """
        check_is_fitted(self, "bins_")
        counts: dict[str, np.ndarray] = {}
        for name, (kind, spec, _expected) in self.bins_.items():
            if name not in X.columns:
                continue
            if kind == "numeric":
                numbers = pd.to_numeric(X[name], errors="coerce").to_numpy(dtype=float)
                counts[name] = _numeric_counts(numbers, spec)
            else:
                counts[name] = _category_counts(X[name], spec)
        counts[SCORE_KEY] = _numeric_counts(np.asarray(score, float), self.score_edges_)
        counts[ROWS_KEY] = np.array([float(len(X))])
        return counts

    def compare_counts(self, counts: dict[str, np.ndarray]) -> tuple[pd.DataFrame, float]:
        """:meth:`compare` from bin counts (:meth:`bin_counts`, possibly merged)."""
        check_is_fitted(self, "bins_")
        n_rows = max(float(counts[ROWS_KEY][0]), 1)
        rows = []
        for name, (_kind, _spec, expected) in self.bins_.items():
            if name not in counts:
                continue
            value = psi(expected, counts[name] / n_rows)
            rows.append({"feature": name, "psi": value, "band": psi_band(value)})
        table = pd.DataFrame(rows, columns=["feature", "psi", "band"])
        overall = psi(self.score_shares_, counts[SCORE_KEY] / n_rows)
        return table.sort_values("psi", ascending=False, ignore_index=True), overall

    def compare(self, X: pd.DataFrame, score: np.ndarray) -> tuple[pd.DataFrame, float]:
        """PSI per feature (with its band) and the PSI of the score (overall)."""
        return self.compare_counts(self.bin_counts(X, score))
