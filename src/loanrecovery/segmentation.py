"""Borrower segmentation: K-Means risk profiles labelled by their observed risk.

Clusters are found on a few profile features (transformed to comparable scales) and then
named ``Low Risk`` … ``Critical Risk`` by ordering them on the observed outcome rate of
their members (ties broken by the mean of a risk proxy), never by cluster id. The labels
therefore survive reseeding even when K-Means numbers its clusters differently.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import PowerTransformer
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["RiskSegmenter", "SEGMENT_LABELS", "PROFILE_FEATURES", "segment_profile"]

#: Segment names, from the lowest to the highest observed risk.
SEGMENT_LABELS: tuple[str, ...] = ("Low Risk", "Moderate Risk", "High Risk", "Critical Risk")

#: Profile features used for clustering the canonical loan table.
PROFILE_FEATURES: tuple[str, ...] = (
    "Income_to_EMI_Ratio",
    "Utilization_Ratio",
    "Collateral_Cover",
    "Interest_Rate",
    "Days_Past_Due",
    "Num_Missed_Payments",
    "Monthly_Income",
)


class RiskSegmenter(ClusterMixin, BaseEstimator):
    """K-Means risk profiles named by their ordered observed risk.

    Parameters
    ----------
    n_segments : int, default=4
        Number of profiles; with 4 they are named as in :data:`SEGMENT_LABELS`, otherwise
        ``Segment 1`` (lowest risk) … ``Segment k``.
    random_state : int, default=42
        Seed of K-Means.
    n_init : int, default=10
        K-Means restarts; more restarts give a partition that does not depend on the seed.

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        Columns used.
    scaler_ : Pipeline
        Imputation and Yeo-Johnson scaling fit on the training rows.
    kmeans_ : KMeans
        The fitted clustering.
    cluster_to_label_ : dict
        Cluster id -> segment name.
    labels_ : ndarray of str
        Segment of each training row.
    risk_by_segment_ : dict
        Observed outcome rate per segment on the training rows.
    """

    def __init__(self, n_segments: int = 4, random_state: int = 42, n_init: int = 10) -> None:
        self.n_segments = n_segments
        self.random_state = random_state
        self.n_init = n_init

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X: pd.DataFrame, y: object = None) -> RiskSegmenter:
        """Cluster ``X`` and name the clusters by the rate of ``y`` (1 = bad outcome).

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Numeric profile features.
        y : array-like of shape (n_samples,), optional
            Observed outcome (0/1, NaN where unknown) or any risk measure where higher is
            worse. Without it, clusters are ordered by their centroid's mean standardized
            value, which only makes sense when every feature grows with risk.
        """
        data = self._validate(X, reset=True)
        if not isinstance(self.n_segments, int) or self.n_segments < 1:
            raise ValueError(
                f"The 'n_segments' parameter of RiskSegmenter must be an int in the range "
                f"[1, inf). Got {self.n_segments!r} instead."
            )
        if len(data) < self.n_segments:
            raise ValueError(
                f"n_samples={len(data)} should be >= n_segments={self.n_segments}: "
                "RiskSegmenter needs at least one row per segment"
            )
        self.scaler_: Pipeline = make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            PowerTransformer(method="yeo-johnson"),
        )
        Z = self.scaler_.fit_transform(data)
        Z = np.nan_to_num(Z)
        self.kmeans_ = KMeans(
            n_clusters=self.n_segments, n_init=self.n_init, random_state=self.random_state
        ).fit(Z)
        clusters = self.kmeans_.labels_
        if y is None:
            score = self.kmeans_.cluster_centers_.mean(axis=1)
        else:
            risk = pd.to_numeric(pd.Series(np.asarray(y, dtype=float)), errors="coerce")
            per_cluster = risk.groupby(clusters).mean()
            score = np.array([per_cluster.get(k, np.nan) for k in range(self.n_segments)])
            score = np.nan_to_num(score, nan=np.nanmean(score) if np.isfinite(score).any() else 0.0)
        # Order by observed risk; break ties by centroid position for determinism.
        order = np.lexsort((self.kmeans_.cluster_centers_.sum(axis=1), score))
        names = self._names()
        self.cluster_to_label_ = {int(cluster): names[rank] for rank, cluster in enumerate(order)}
        self.labels_ = np.array([self.cluster_to_label_[int(c)] for c in clusters], dtype=object)
        self.risk_by_segment_ = {
            self.cluster_to_label_[int(k)]: float(score[k]) for k in range(self.n_segments)
        }
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Segment name of each row of ``X``."""
        check_is_fitted(self, "kmeans_")
        Z = np.nan_to_num(self.scaler_.transform(self._validate(X, reset=False)))
        clusters = self.kmeans_.predict(Z)
        names = np.array(
            [self.cluster_to_label_[k] for k in range(self.kmeans_.n_clusters)], dtype=object
        )
        return names[clusters]

    def fit_predict(self, X: pd.DataFrame, y: object = None, **kwargs: object) -> np.ndarray:
        """Fit and return the segment of each training row."""
        return self.fit(X, y).labels_

    def _names(self) -> tuple[str, ...]:
        if self.n_segments == len(SEGMENT_LABELS):
            return SEGMENT_LABELS
        return tuple(f"Segment {k + 1}" for k in range(self.n_segments))

    def _validate(self, X: object, *, reset: bool) -> np.ndarray:
        return np.asarray(
            validate_data(self, X, reset=reset, dtype=float, ensure_all_finite="allow-nan")
        )


def segment_profile(
    features: pd.DataFrame,
    segments: np.ndarray,
    outcome: np.ndarray | None = None,
    risk_score: np.ndarray | None = None,
) -> pd.DataFrame:
    """Profile table: per segment, its size, share, medians of the features, outcome rate."""
    frame = features.copy()
    frame["Segment"] = segments
    grouped = frame.groupby("Segment")
    table = grouped.median(numeric_only=True)
    table.insert(0, "Loans", grouped.size())
    table.insert(1, "Share", table["Loans"] / table["Loans"].sum())
    if outcome is not None:
        rate = pd.Series(np.asarray(outcome, dtype=float)).groupby(np.asarray(segments)).mean()
        table.insert(2, "Observed_Bad_Rate", rate)
    if risk_score is not None:
        mean_score = (
            pd.Series(np.asarray(risk_score, dtype=float)).groupby(np.asarray(segments)).mean()
        )
        table.insert(3 if outcome is not None else 2, "Mean_Risk_Score", mean_score)
    order = [s for s in (*SEGMENT_LABELS, *sorted(table.index)) if s in table.index]
    return table.loc[list(dict.fromkeys(order))]
