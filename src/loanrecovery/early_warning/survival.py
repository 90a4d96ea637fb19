"""Months-to-default view: landmark Cox model and Kaplan-Meier curves per segment.

A *landmark* is a month ``L``: every loan performing at ``L`` enters with its features at
``L`` and is followed until its first 90+ DPD month (event) or until it leaves the book or
observation ends (censored). The Cox model is fitted on landmarks before the cut-off, with
follow-up censored at the cut-off, and judged on the landmark at the cut-off (features at
``C``, outcomes after ``C``) by its concordance index.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceError
from lifelines.utils import concordance_index

__all__ = ["SURVIVAL_COVARIATES", "landmark_frame", "SurvivalView"]

logger = logging.getLogger(__name__)

#: Point-in-time features used by the Cox model (a compact, readable set).
SURVIVAL_COVARIATES: tuple[str, ...] = (
    "DPD",
    "DPD_Change_3",
    "DPD_Max_12",
    "Missed_6",
    "Partial_6",
    "Pay_Ratio_3",
    "Pay_Ratio_12",
    "Months_Since_Full",
    "Balance_Vs_Schedule",
    "Interest_Rate",
    "Secured",
    "Months_On_Book",
)


def landmark_frame(
    features: pd.DataFrame,
    default_month: np.ndarray,
    last_month: np.ndarray,
    landmark: int,
    *,
    end: int,
) -> pd.DataFrame:
    """Loans performing at ``landmark`` with their duration to default, censored at ``end``.

    Parameters
    ----------
    features : DataFrame
        Loan-month features (``Loan_ID``, ``Month`` and feature columns).
    default_month : ndarray
        First 90+ DPD month of each row's loan (NaN if none), aligned with ``features``.
    last_month : ndarray
        Last panel month of each row's loan, aligned with ``features``.
    landmark : int
        The landmark month.
    end : int
        Last month whose outcome may be looked at.

    Returns
    -------
    DataFrame
        The feature rows at the landmark plus ``Duration`` (months, >= 1) and ``Event``.
    """
    at = (features["Month"].to_numpy() == landmark) & ~(default_month <= landmark)
    frame = features.loc[at].copy()
    d = default_month[at]
    stop = np.minimum(last_month[at], end)
    event = d <= end
    duration = np.where(event, d - landmark, stop - landmark)
    frame["Duration"] = duration
    frame["Event"] = event.astype(int)
    return frame.loc[frame["Duration"] >= 1]


class SurvivalView:
    """Cox proportional-hazards model of months to default on landmark rows.

    Parameters
    ----------
    covariates : tuple of str, default=SURVIVAL_COVARIATES
        Feature columns.
    penalizer : float, default=0.05
        Ridge penalty of the Cox fit.
    max_months : int, default=12
        Horizon of the predicted survival curves.

    Attributes
    ----------
    covariates_ : list of str
        Covariates used (those with any spread in the training rows).
    means_, scales_ : ndarray
        Standardisation learned on the training rows.
    coef_, norm_mean_ : ndarray
        The Cox model's coefficients and the means of the standardised training rows it
        centres on (fitted with lifelines' ``CoxPHFitter``).
    baseline_cumulative_hazard_ : ndarray of shape (max_months + 1,)
        Baseline cumulative hazard at months 0 .. ``max_months``.
    """

    def __init__(
        self,
        covariates: tuple[str, ...] = SURVIVAL_COVARIATES,
        penalizer: float = 0.05,
        max_months: int = 12,
    ) -> None:
        self.covariates = covariates
        self.penalizer = penalizer
        self.max_months = max_months

    def _design(self, frame: pd.DataFrame) -> np.ndarray:
        X = frame[self.covariates_].to_numpy(dtype=float)
        return np.clip(np.nan_to_num((X - self.means_) / self.scales_, nan=0.0), -8, 8)

    def fit(self, landmarks: pd.DataFrame) -> SurvivalView:
        """Fit on stacked landmark rows (``Duration``, ``Event`` and the covariates).

        Parameters
        ----------
        landmarks : DataFrame
            Output of :func:`landmark_frame` (possibly several landmarks stacked).

        Returns
        -------
        self
        """
        X = landmarks[list(self.covariates)].astype(float)
        spread = X.std().fillna(0.0)
        # A covariate without spread (e.g. every loan secured) makes the Cox fit singular.
        self.covariates_ = [c for c in self.covariates if spread[c] > 0]
        self.means_ = X[self.covariates_].mean().to_numpy(dtype=float)
        self.scales_ = spread[self.covariates_].to_numpy(dtype=float)
        data = pd.DataFrame(self._design(landmarks), columns=self.covariates_)
        data["Duration"] = landmarks["Duration"].to_numpy()
        data["Event"] = landmarks["Event"].to_numpy()
        try:
            cox = CoxPHFitter(penalizer=self.penalizer)
            cox.fit(data, duration_col="Duration", event_col="Event")
        except ConvergenceError:
            logger.warning("Cox fit did not converge; refitting with a 10x stronger penalty")
            cox = CoxPHFitter(penalizer=10 * self.penalizer)
            cox.fit(data, duration_col="Duration", event_col="Event")
        # The fitted model as plain arrays (what lifelines' predictions use): the
        # coefficients, the training means it centres on, and the baseline cumulative
        # hazard at months 0 .. max_months (linearly interpolated, as lifelines does).
        self.coef_ = cox.params_[self.covariates_].to_numpy(dtype=float)
        self.norm_mean_ = cox._norm_mean[self.covariates_].to_numpy(dtype=float)
        times = np.arange(0, self.max_months + 1, dtype=float)
        base = cox.baseline_cumulative_hazard_
        self.baseline_cumulative_hazard_ = np.interp(
            times, base.index.to_numpy(dtype=float), base.to_numpy(dtype=float).ravel()
        )
        return self

    def risk(self, frame: pd.DataFrame) -> np.ndarray:
        """Partial hazard (higher = sooner default)."""
        return np.exp((self._design(frame) - self.norm_mean_) @ self.coef_)

    def concordance(self, landmarks: pd.DataFrame) -> float:
        """Harrell's concordance index on landmark rows."""
        return float(
            concordance_index(
                landmarks["Duration"], -self.risk(landmarks), landmarks["Event"].to_numpy()
            )
        )

    def survival_curves(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Predicted survival ``S(k)`` for ``k = 0 .. max_months`` (rows = months)."""
        times = np.arange(0, self.max_months + 1, dtype=float)
        surv = np.exp(-np.outer(self.baseline_cumulative_hazard_, self.risk(frame)))
        return pd.DataFrame(surv, index=times, columns=frame.index)

    def expected_months(self, frame: pd.DataFrame) -> np.ndarray:
        """Expected months to default given a default within :attr:`max_months`.

        ``E[T | T <= max_months]`` from the predicted survival curve; read it together with
        the probabilities of default, which say how likely that default is.
        """
        surv = self.survival_curves(frame).to_numpy()
        drop = np.clip(surv[:-1] - surv[1:], 0.0, None)
        months = np.arange(1, self.max_months + 1, dtype=float)[:, None]
        total = drop.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(total > 0, (months * drop).sum(axis=0) / total, np.nan)
        return out


def kaplan_meier_by_segment(
    landmarks: pd.DataFrame, segments: np.ndarray, max_months: int
) -> pd.DataFrame:
    """Kaplan-Meier share still not in default, per segment, months ``0 .. max_months``.

    Parameters
    ----------
    landmarks : DataFrame
        Landmark rows with ``Duration`` and ``Event``.
    segments : ndarray
        Segment name of each row.
    max_months : int
        Last month of the curves.

    Returns
    -------
    DataFrame
        Index = months, one column per segment.
    """
    times = np.arange(0, max_months + 1, dtype=float)
    curves = {}
    for name in pd.unique(segments):
        rows = segments == name
        if rows.sum() < 2:
            continue
        km = KaplanMeierFitter().fit(
            landmarks["Duration"].to_numpy()[rows], landmarks["Event"].to_numpy()[rows]
        )
        curves[str(name)] = np.asarray(km.survival_function_at_times(times))
    return pd.DataFrame(curves, index=times)


__all__ += ["kaplan_meier_by_segment"]
