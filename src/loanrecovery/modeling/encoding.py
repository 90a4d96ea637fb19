"""A loan feature frame to a float matrix: numeric columns as they are, categories as codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

__all__ = ["FrameEncoder", "as_frame", "check_columns", "validate_xy"]


def fitted_frame(
    estimator: object, X: object, *, fitted: str | None = None, str_columns: bool = False
) -> pd.DataFrame:
    """``X`` as a DataFrame for a fitted estimator's predict methods: an array must have
    as many columns as the estimator was fit on (a frame is matched by column name later).

    ``fitted`` names an attribute that must exist (else ``NotFittedError``); with
    ``str_columns`` the column names are made strings, as at fit time."""
    if fitted is not None:
        check_is_fitted(estimator, fitted)
    frame = as_frame(X)
    expected = estimator.n_features_in_  # type: ignore[attr-defined]
    if not isinstance(X, pd.DataFrame) and frame.shape[1] != expected:
        raise ValueError(
            f"X has {frame.shape[1]} features, but {type(estimator).__name__} is expecting "
            f"{expected} features as input"
        )
    if str_columns:
        frame.columns = [str(c) for c in frame.columns]
    return frame


def as_frame(X: object) -> pd.DataFrame:
    """``X`` as a DataFrame; arrays are validated and get the column names ``x0``, ``x1``, ...

    Raises
    ------
    TypeError
        Sparse input.
    ValueError
        Not 2D, empty, complex or infinite values.
    """
    if isinstance(X, pd.DataFrame):
        if X.shape[0] == 0:
            raise ValueError(
                f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required."
            )
        return X
    array = check_array(X, accept_sparse=False, dtype=None, ensure_all_finite="allow-nan")
    if array.dtype.kind not in "biuf":
        array = check_array(array, dtype=np.float64, ensure_all_finite="allow-nan")
    return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])


def validate_xy(X: object, y: object) -> tuple[pd.DataFrame, np.ndarray]:
    """Features as a frame and the target as a 1D array of the same length."""
    if y is None:
        raise ValueError("requires y to be passed, but the target y is None")
    frame = as_frame(X)
    y_array = column_or_1d(np.asarray(y), warn=True)
    if len(y_array) != len(frame):
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"[{len(frame)}, {len(y_array)}]"
        )
    return frame, y_array


def check_columns(X: pd.DataFrame, expected: list[str]) -> None:
    """Raise ``ValueError`` naming the columns seen at fit time that are missing now."""
    missing = [c for c in expected if c not in X.columns]
    if missing:
        raise ValueError(f"Feature names seen at fit time, yet now missing: {missing}")


class FrameEncoder(TransformerMixin, BaseEstimator):
    """Encode a feature frame as a float32 matrix for tree models.

    Numeric columns pass through (missing stays NaN). Columns of dtype ``category`` or
    ``object`` become the code of their value among the categories seen at fit time; unseen
    values and missing values become NaN.

    Attributes
    ----------
    feature_names_in_ : ndarray of str
    categories_ : dict
        Column -> list of the categories seen at fit time (only categorical columns).
    categorical_indices_ : list of int
        Positions of the categorical columns in the output.
    """

    def fit(self, X: pd.DataFrame, y: object = None) -> FrameEncoder:
        """Learn the columns and the categories of each categorical column."""
        X = as_frame(X)
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = X.shape[1]
        self.categories_: dict[str, list[str]] = {}
        for name in X.columns:
            values = X[name]
            if isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object:
                present = values.dropna().astype(str)
                self.categories_[str(name)] = sorted(present.unique().tolist())
        self.categorical_indices_ = [
            i for i, name in enumerate(self.feature_names_in_) if name in self.categories_
        ]
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Float32 matrix in the column order seen at fit time."""
        check_is_fitted(self, "categories_")
        X = as_frame(X)
        X.columns = [str(c) for c in X.columns]
        names = list(self.feature_names_in_)
        check_columns(X, names)
        out = np.empty((len(X), len(names)), dtype=np.float32)
        for j, name in enumerate(names):
            values = X[name]
            if name in self.categories_:
                index = pd.Index(self.categories_[name])
                codes = index.get_indexer(values.astype(str).where(values.notna(), None))
                out[:, j] = np.where(codes < 0, np.nan, codes)
            else:
                out[:, j] = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float32)
        out[~np.isfinite(out)] = np.nan
        return out

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """The column names, in output order."""
        check_is_fitted(self, "categories_")
        return np.asarray(self.feature_names_in_, dtype=object)
