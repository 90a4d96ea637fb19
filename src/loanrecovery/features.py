"""Feature engineering on the canonical loan table, as a scikit-learn transformer.

The financial ratios of the original write-up (Income_to_EMI_Ratio, Utilization_Ratio) plus
collateral cover and EMI burden, the numeric borrower/loan/behaviour columns, and one-hot
encodings of the categorical ones over the contract's fixed levels (so the columns are the
same whatever the data). Treatment, outcome, identifier and protected columns are never used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from loanrecovery.contract.schema import FEATURE_ROLES, LOAN_SPECS, Kind

__all__ = ["LoanFeatures", "safe_ratio", "RATIO_FEATURES", "NUMERIC_INPUTS", "CATEGORICAL_INPUTS"]

#: Canonical numeric columns used as features.
NUMERIC_INPUTS: tuple[str, ...] = tuple(
    s.name for s in LOAN_SPECS if s.role in FEATURE_ROLES and s.kind in (Kind.INTEGER, Kind.NUMBER)
)
#: Canonical categorical columns used as features, with their fixed levels.
CATEGORICAL_INPUTS: dict[str, tuple[str, ...]] = {
    s.name: s.levels for s in LOAN_SPECS if s.role in FEATURE_ROLES and s.kind is Kind.CATEGORY
}
#: Derived ratios: name -> (numerator, denominator, cap).
RATIO_FEATURES: dict[str, tuple[str, str, float]] = {
    "Income_to_EMI_Ratio": ("Monthly_Income", "Monthly_EMI", 1000.0),
    "Utilization_Ratio": ("Outstanding_Loan_Amount", "Loan_Amount", 10.0),
    "Collateral_Cover": ("Collateral_Value", "Outstanding_Loan_Amount", 100.0),
    "EMI_Burden": ("Monthly_EMI", "Monthly_Income", 100.0),
}


def safe_ratio(numerator: np.ndarray, denominator: np.ndarray, cap: float) -> np.ndarray:
    """``numerator / denominator`` clipped to ``[0, cap]``, never inf or NaN.

    A zero or missing denominator gives ``cap`` when the numerator is positive and 0 otherwise;
    a missing numerator gives 0.
    """
    num = np.nan_to_num(np.asarray(numerator, dtype=float), nan=0.0, posinf=cap, neginf=0.0)
    den = np.nan_to_num(np.asarray(denominator, dtype=float), nan=0.0, posinf=0.0, neginf=0.0)
    out = np.where(num > 0, cap, 0.0)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        np.divide(num, den, out=out, where=den > 0)
    return np.clip(np.nan_to_num(out, nan=0.0, posinf=cap, neginf=0.0), 0.0, cap)


class LoanFeatures(TransformerMixin, BaseEstimator):
    """Turn canonical loan rows into a numeric model matrix.

    Parameters
    ----------
    include_ratios : bool, default=True
        Add the derived ratios of :data:`RATIO_FEATURES`.

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        Columns of the frame seen at fit time.
    medians_ : dict
        Median of each numeric input at fit time, used to fill missing values.
    feature_names_out_ : list of str
        Names of the output columns.
    """

    def __init__(self, include_ratios: bool = True) -> None:
        self.include_ratios = include_ratios

    def fit(self, X: pd.DataFrame, y: object = None) -> LoanFeatures:
        """Learn fill values and the output columns from ``X``."""
        self._check_frame(X)
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        numeric = X[list(NUMERIC_INPUTS)].apply(pd.to_numeric, errors="coerce").astype(float)
        self.medians_ = {c: float(np.nan_to_num(numeric[c].median())) for c in NUMERIC_INPUTS}
        self.feature_names_out_ = list(self._transform(X).columns)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return the model matrix (float columns, no inf or NaN)."""
        check_is_fitted(self, "medians_")
        self._check_frame(X)
        return self._transform(X)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Names of the output columns."""
        check_is_fitted(self, "feature_names_out_")
        return np.asarray(self.feature_names_out_, dtype=object)

    @staticmethod
    def _check_frame(X: object) -> None:
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"LoanFeatures expects a pandas DataFrame, got {type(X).__name__}")
        needed = [*NUMERIC_INPUTS, *CATEGORICAL_INPUTS]
        missing = [c for c in needed if c not in X.columns]
        if missing:
            raise ValueError(f"Columns needed for features are missing: {missing}")

    def _transform(self, X: pd.DataFrame) -> pd.DataFrame:
        numeric = X[list(NUMERIC_INPUTS)].apply(pd.to_numeric, errors="coerce").astype(float)
        numeric = numeric.replace([np.inf, -np.inf], np.nan)
        numeric = numeric.fillna(getattr(self, "medians_", {}))
        numeric = numeric.fillna(0.0)
        parts = [numeric.reset_index(drop=True)]
        if self.include_ratios:
            ratios = {
                name: safe_ratio(numeric[num].to_numpy(), numeric[den].to_numpy(), cap)
                for name, (num, den, cap) in RATIO_FEATURES.items()
            }
            parts.append(pd.DataFrame(ratios))
        for column, levels in CATEGORICAL_INPUTS.items():
            values = X[column].astype(object).to_numpy()
            onehot = {f"{column}={level}": (values == level).astype(float) for level in levels}
            parts.append(pd.DataFrame(onehot))
        out = pd.concat(parts, axis=1)
        out.index = X.index
        return out.astype(float)
