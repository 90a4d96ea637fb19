"""Risk segments: bands of the risk model's PD whose observed bad rates are separated.

:class:`RiskSegmenter` is fitted on out-of-fold PDs against the observed outcome:

1. optimal binning (optbinning's ``OptimalBinning``, monotonic ascending) cuts the PD into
   bands whose bad rate rises from one band to the next;
2. neighbouring bands are merged, the pair with the least evidence of a difference first
   (smallest two-proportion z statistic), while any neighbour pair is not *separated*: a
   strictly higher bad rate above, and 95% Wilson intervals that do not overlap;
3. then, while there are more than :data:`MAX_SEGMENTS` bands, the least different pair is
   merged the same way.

Segments are named by rank (:data:`SEGMENT_NAMES`), so that a policy rule naming
``"High Risk"`` or ``"Critical Risk"`` always means the top of the ladder; a book whose
outcomes support no separation gets one segment, ``Unsegmented``. The rule is explained in
``docs/segments.md``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "RiskSegmenter",
    "SEGMENT_LABELS",
    "SEGMENT_NAMES",
    "MAX_SEGMENTS",
    "UNSEGMENTED",
    "PROFILE_FEATURES",
    "segment_profile",
    "wilson_interval",
    "separated",
]

#: Segment names, from the lowest to the highest observed risk, when there are four.
SEGMENT_LABELS: tuple[str, ...] = ("Low Risk", "Moderate Risk", "High Risk", "Critical Risk")
#: Name of the single segment of a book whose outcomes support no separation.
UNSEGMENTED = "Unsegmented"
#: Names by number of segments, lowest risk first. Fewer segments drop names from the
#: middle of the ladder, so the top is always ``High Risk`` or above and a rule naming
#: ``["High Risk", "Critical Risk"]`` always covers the riskiest segment.
SEGMENT_NAMES: dict[int, tuple[str, ...]] = {
    1: (UNSEGMENTED,),
    2: ("Low Risk", "High Risk"),
    3: ("Low Risk", "High Risk", "Critical Risk"),
    4: SEGMENT_LABELS,
}
#: Most segments a book is cut into.
MAX_SEGMENTS = 4
#: Normal quantile of a two-sided 95% interval.
_Z95 = 1.959964

#: Loan features described per segment in the report's profile table (not used to segment).
PROFILE_FEATURES: tuple[str, ...] = (
    "Income_to_EMI_Ratio",
    "Utilization_Ratio",
    "Collateral_Cover",
    "Interest_Rate",
    "Days_Past_Due",
    "Num_Missed_Payments",
    "Monthly_Income",
)


def wilson_interval(
    bad: np.ndarray, n: np.ndarray, z: float = _Z95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion ``bad / n`` (95% by default), elementwise."""
    bad, n = np.asarray(bad, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n > 0, bad / n, 0.0)
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), 0.0)
    high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), 1.0)
    return low, high


def separated(bad: np.ndarray, n: np.ndarray) -> np.ndarray:
    """For each neighbour pair ``(k, k+1)``: bad rate strictly higher above and the 95%
    Wilson intervals do not overlap."""
    bad, n = np.asarray(bad, dtype=float), np.asarray(n, dtype=float)
    rate = bad / np.maximum(n, 1)
    low, high = wilson_interval(bad, n)
    return (rate[1:] > rate[:-1]) & (high[:-1] < low[1:])


def _z_statistic(bad: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Two-proportion z statistic of each neighbour pair (upper minus lower, pooled)."""
    b1, b2, n1, n2 = bad[:-1], bad[1:], n[:-1], n[1:]
    pooled = (b1 + b2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (b2 / n2 - b1 / n1) / se
    return np.where(se > 0, z, 0.0)


class RiskSegmenter(BaseEstimator):
    """Bands of a PD with separated observed bad rates, named by rank.

    Parameters
    ----------
    max_segments : int, default=4
        Most segments (at most 4, the named ladder).
    max_n_bins : int, default=10
        Most PD bands the optimal binning starts from.
    min_bin_size : float, default=0.01
        Smallest share of the fitted rows in a band of the optimal binning.

    Attributes
    ----------
    edges_ : ndarray
        PD cut points between segments (``n_segments_ - 1`` of them, increasing); a PD at
        or above ``edges_[k]`` is above segment ``k``.
    names_ : tuple of str
        Segment names, lowest risk first.
    n_segments_ : int
        Segments kept.
    n_bands_ : int
        PD bands the optimal binning found, before merging.
    counts_, bads_ : ndarray
        Fitted rows and bad outcomes per segment.
    bad_rate_, interval_low_, interval_high_ : ndarray
        Observed bad rate per segment and its 95% Wilson interval.
    note_ : str
        How many segments the data supported and why, in a sentence.
    """

    def __init__(
        self, max_segments: int = MAX_SEGMENTS, max_n_bins: int = 10, min_bin_size: float = 0.01
    ) -> None:
        self.max_segments = max_segments
        self.max_n_bins = max_n_bins
        self.min_bin_size = min_bin_size

    def fit(self, pd_: object, y: object) -> RiskSegmenter:
        """Cut ``pd_`` into separated segments by the observed outcome ``y``.

        Parameters
        ----------
        pd_ : array-like of shape (n_samples,)
            Out-of-fold probabilities of default (finite).
        y : array-like of shape (n_samples,)
            Observed outcome, 1 = bad, 0 = good.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Lengths differ, no row, a PD that is not finite, an outcome other than 0/1, or
            ``max_segments`` outside 1..4.
        """
        x = self._scores(pd_)
        target = np.asarray(y, dtype=float).ravel()
        if len(target) != len(x):
            raise ValueError(f"pd_ has {len(x)} rows but y has {len(target)}")
        if not len(x):
            raise ValueError("RiskSegmenter needs at least one row to fit")
        if not np.isin(target, (0.0, 1.0)).all():
            raise ValueError("y must hold 0 (good) or 1 (bad) only")
        if not isinstance(self.max_segments, int) or not 1 <= self.max_segments <= MAX_SEGMENTS:
            raise ValueError(
                f"max_segments must be an int in 1..{MAX_SEGMENTS}, got {self.max_segments!r}"
            )
        splits = self._bands(x, target)
        self.n_bands_ = len(splits) + 1
        band = np.searchsorted(splits, x, side="right")
        counts = np.bincount(band, minlength=self.n_bands_).astype(float)
        bads = np.bincount(band, weights=target, minlength=self.n_bands_)
        edges = list(splits)
        while len(counts) > 1:
            apart = separated(bads, counts)
            if apart.all() and len(counts) <= self.max_segments:
                break
            z = _z_statistic(bads, counts)
            pairs = np.flatnonzero(~apart) if not apart.all() else np.arange(len(z))
            k = int(pairs[np.argmin(z[pairs])])
            counts = np.concatenate([counts[:k], [counts[k] + counts[k + 1]], counts[k + 2 :]])
            bads = np.concatenate([bads[:k], [bads[k] + bads[k + 1]], bads[k + 2 :]])
            del edges[k]
        self.edges_ = np.asarray(edges, dtype=float)
        self.n_segments_ = len(counts)
        self.names_ = SEGMENT_NAMES[self.n_segments_]
        self.counts_, self.bads_ = counts.astype(int), bads.astype(int)
        self.bad_rate_ = bads / np.maximum(counts, 1)
        self.interval_low_, self.interval_high_ = wilson_interval(bads, counts)
        self.note_ = self._note()
        return self

    def predict(self, pd_: object) -> np.ndarray:
        """Segment name of each PD (object array)."""
        check_is_fitted(self, "edges_")
        x = self._scores(pd_)
        names = np.asarray(self.names_, dtype=object)
        return names[np.searchsorted(self.edges_, x, side="right")]

    def fit_predict(self, pd_: object, y: object) -> np.ndarray:
        """Fit and return the segment of each fitted row."""
        return self.fit(pd_, y).predict(pd_)

    def table(self) -> pd.DataFrame:
        """Per segment: PD range, fitted loans, bad outcomes, bad rate and its 95% interval."""
        check_is_fitted(self, "edges_")
        bounds = np.concatenate([[0.0], self.edges_, [1.0]])
        return pd.DataFrame(
            {
                "PD from": bounds[:-1],
                "PD to": bounds[1:],
                "Loans": self.counts_,
                "Bad outcomes": self.bads_,
                "Bad rate": self.bad_rate_,
                "95% low": self.interval_low_,
                "95% high": self.interval_high_,
            },
            index=pd.Index(self.names_, name="Segment"),
        )

    def describe(self) -> dict[str, object]:
        """The segments as JSON-ready data: per segment its PD range, loans, bad rate and
        95% interval, and the note saying how many the data supported and why."""
        table = self.table()
        return {
            "segments": [
                {
                    "name": str(name),
                    "pd_from": round(float(row["PD from"]), 6),
                    "pd_to": round(float(row["PD to"]), 6),
                    "loans": int(row["Loans"]),
                    "bad_outcomes": int(row["Bad outcomes"]),
                    "bad_rate": round(float(row["Bad rate"]), 6),
                    "interval_95": [
                        round(float(row["95% low"]), 6),
                        round(float(row["95% high"]), 6),
                    ],
                }
                for name, row in table.iterrows()
            ],
            "bands_before_merging": int(self.n_bands_),
            "note": self.note_,
        }

    @property
    def fully_segmented(self) -> bool:
        """Whether the data supported the full ladder of ``max_segments`` segments."""
        check_is_fitted(self, "edges_")
        return self.n_segments_ >= self.max_segments

    def _note(self) -> str:
        bands = f"optimal binning of the PD found {self.n_bands_} band(s)"
        if self.n_segments_ >= self.max_segments:
            return (
                f"{self.n_segments_} risk segments with separated bad rates ({bands}; "
                "neighbours merged until their 95% intervals no longer overlapped)."
            )
        start = f"The data support only {self.n_segments_} risk segment(s), not {self.max_segments}"
        if self.n_bands_ > self.n_segments_:
            return (
                f"{start}: {bands}, and neighbouring bands were merged because the 95% "
                "intervals of their observed bad rates overlapped."
            )
        return (
            f"{start}: {bands}; the observed bad rate does not rise with the PD enough for "
            "more cuts."
        )

    def _bands(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """PD cut points of the monotonic optimal binning (none with a single class)."""
        if len(np.unique(y)) < 2 or len(np.unique(x)) < 2:
            return np.empty(0)
        # Imported here on purpose (not a cycle): optbinning loads OR-Tools, about 2 s of
        # import time, and only fitting needs it; applying a fitted segmenter never does.
        from optbinning import OptimalBinning

        optb = OptimalBinning(
            name="PD",
            dtype="numerical",
            monotonic_trend="ascending",
            max_n_bins=self.max_n_bins,
            min_bin_size=self.min_bin_size,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            optb.fit(x, y.astype(int))
        return np.sort(np.asarray(optb.splits, dtype=float))

    @staticmethod
    def _scores(pd_: object) -> np.ndarray:
        x = np.asarray(pd_, dtype=float)
        if x.ndim == 2 and x.shape[1] == 1:
            x = x[:, 0]
        if x.ndim != 1:
            raise ValueError(f"expected one PD per row (1-D), got shape {x.shape}")
        if not np.isfinite(x).all():
            bad = x[~np.isfinite(x)][0]
            raise ValueError(f"PDs must be finite numbers, got {bad}")
        return x


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
    ladder = (UNSEGMENTED, *SEGMENT_LABELS)
    order = [s for s in (*ladder, *sorted(table.index)) if s in table.index]
    return table.loc[list(dict.fromkeys(order))]
