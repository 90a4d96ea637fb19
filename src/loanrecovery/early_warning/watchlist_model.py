"""The fitted early-warning model of the current book: horizon probabilities, expected months
to default and plain-word reasons of every performing loan at the latest month, with the
risk segment the risk stage gave it (early warning has no segmenter of its own).

Fitted once by :func:`~loanrecovery.early_warning.run.run_early_warning` (or a bundle) and
applied many times: to the book it was fitted on, to next month's book, or to one account.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd

from loanrecovery.delinquency import inactive_loans
from loanrecovery.early_warning.features import PANEL_FEATURES, STATIC_FEATURES, build_features
from loanrecovery.early_warning.horizon import HorizonClassifiers
from loanrecovery.early_warning.sequence import SequenceClassifier
from loanrecovery.early_warning.survival import SurvivalView
from loanrecovery.early_warning.targets import make_targets
from loanrecovery.early_warning.watchlist import WATCHLIST_COLUMNS, build_watchlist, top_reasons
from loanrecovery.segmentation import UNSEGMENTED

__all__ = [
    "WatchlistModel",
    "FEATURES",
    "HORIZONS",
    "PD_HORIZONS",
    "REASON_BAND",
    "DEFAULT_ALERT_BUDGET",
    "DEFAULT_ALERT_MIN_PROBABILITY",
    "segments_by_loan",
    "blend_logits",
    "reason_band",
    "RAW_P3",
]

#: Largest share of performing accounts that can be alerted per month, unless configured.
DEFAULT_ALERT_BUDGET = 0.10
#: Lowest 3-month probability of default that is alerted, unless configured: the alert
#: budget is a cap, not a quota, and a loan below it is not worth a collector's call.
DEFAULT_ALERT_MIN_PROBABILITY = 0.05
#: Horizons of the evaluated models, in months.
HORIZONS: tuple[int, ...] = (3, 6)
#: Horizons of the watchlist's (refitted) models: the probabilities of ``accounts.csv``.
PD_HORIZONS: tuple[int, ...] = (3, 6, 12)
#: Model features, in order.
FEATURES: tuple[str, ...] = (*STATIC_FEATURES, *PANEL_FEATURES)
#: Reasons are written for the top ``REASON_BAND x alert budget`` of the watchlist.
REASON_BAND = 2.0
#: Column of the unrounded 3-month probability (:meth:`WatchlistModel.apply` with
#: ``raw_p3=True``): what the reason band is chosen by.
RAW_P3 = "P3_Raw"


def reason_band(p3: np.ndarray, alert_budget: float) -> np.ndarray:
    """Positions of the watchlist rows given reasons: the top ``REASON_BAND x alert budget``
    (at least 200, or every row) by the unrounded 3-month probability, ties in row order.

    Parameters
    ----------
    p3 : ndarray
        Unrounded 3-month probabilities of the whole watchlist, in the order of its feature
        rows (``Loan_ID`` order).
    alert_budget : float

    Returns
    -------
    ndarray of int
    """
    n = len(p3)
    n_band = max(int(math.ceil(REASON_BAND * alert_budget * n)), min(n, 200))
    return np.argsort(-np.asarray(p3, dtype=float), kind="stable")[:n_band]


def blend_logits(p_gbm: np.ndarray, p_seq: np.ndarray, w: float) -> np.ndarray:
    """The logit blend ``sigmoid(w * logit(p_seq) + (1 - w) * logit(p_gbm))``."""
    q_gbm = np.clip(p_gbm, 1e-6, 1 - 1e-6)
    q_seq = np.clip(p_seq, 1e-6, 1 - 1e-6)
    z = w * np.log(q_seq / (1 - q_seq)) + (1.0 - w) * np.log(q_gbm / (1 - q_gbm))
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


class WatchlistModel:
    """Horizon classifiers and survival view, applied to a book's latest month.

    Parameters
    ----------
    horizons : HorizonClassifiers
        Fitted P(90+ days past due within h months) models.
    survival : SurvivalView
        Fitted months-to-default view.
    alert_budget : float
        Largest share of the performing loans marked ``Alert``.
    alert_min_probability : float, default=0.05
        Lowest 3-month probability alerted.
    sequence : SequenceClassifier, optional
        When the early-warning choice picked the sequence model or the blend: the fitted
        GRU (weights as numpy arrays; applying it needs the ``deep`` extra).
    blend_weights : dict of str to float, optional
        Weight of the sequence model per horizon (``"3"``, ``"6"``) in the logit blend
        with ``horizons``; empty with ``sequence`` = the sequence model alone.

    Attributes
    ----------
    alert_threshold_ : float
        Lowest 3-month probability alerted on the book it was fitted on.
    """

    def __init__(
        self,
        horizons: HorizonClassifiers,
        survival: SurvivalView,
        alert_budget: float,
        alert_min_probability: float = DEFAULT_ALERT_MIN_PROBABILITY,
        sequence: SequenceClassifier | None = None,
        blend_weights: dict[str, float] | None = None,
    ) -> None:
        self.horizons = horizons
        self.survival = survival
        self.alert_budget = alert_budget
        self.alert_min_probability = alert_min_probability
        self.sequence = sequence
        self.blend_weights = {str(k): float(v) for k, v in (blend_weights or {}).items()}

    @property
    def kind(self) -> str:
        """Which model gives the probabilities: ``gbm``, ``sequence`` or ``blend``."""
        if getattr(self, "sequence", None) is None:
            return "gbm"
        return "blend" if self.blend_weights else "sequence"

    @property
    def min_probability(self) -> float:
        """The lowest 3-month probability alerted (0 for a model saved before it existed)."""
        return float(getattr(self, "alert_min_probability", 0.0))

    def apply(
        self,
        panel: pd.DataFrame,
        loans: pd.DataFrame,
        *,
        segments: pd.Series | None = None,
        min_probability: float | None = None,
        reasons_for: Collection[str] | None = None,
        raw_p3: bool = False,
    ) -> pd.DataFrame:
        """The ranked watchlist of a validated panel's latest month.

        Parameters
        ----------
        panel : DataFrame
            Accepted payment-panel rows (a :class:`~loanrecovery.contract.book.Book`'s
            ``payments``).
        loans : DataFrame
            The accepted loan table.
        segments : Series, optional
            The risk stage's segment of each loan, indexed by ``Loan_ID``
            (:meth:`~loanrecovery.risk_model.BookRiskModel.segments_of`); ``Unsegmented``
            without it.
        min_probability : float, optional
            Lowest 3-month probability alerted (default: :attr:`alert_min_probability`).
        reasons_for : collection of str, optional
            The ``Loan_ID`` s to give reasons (the band of a whole book, :func:`reason_band`,
            when ``panel`` is one part of it); by default the band of this watchlist.
        raw_p3 : bool, default False
            Add :data:`RAW_P3`, the unrounded 3-month probability.

        Returns
        -------
        DataFrame
            :data:`~loanrecovery.early_warning.watchlist.WATCHLIST_COLUMNS` (and
            :data:`RAW_P3`).
        """
        feats = build_features(panel, loans)
        return self.apply_features(
            feats,
            make_targets(panel, HORIZONS),
            loans,
            segments,
            min_probability=min_probability,
            panel=panel,
            reasons_for=reasons_for,
            raw_p3=raw_p3,
        )

    def apply_features(
        self,
        feats: pd.DataFrame,
        targets: pd.DataFrame,
        loans: pd.DataFrame,
        segments: pd.Series | None = None,
        *,
        min_probability: float | None = None,
        panel: pd.DataFrame | None = None,
        reasons_for: Collection[str] | None = None,
        raw_p3: bool = False,
    ) -> pd.DataFrame:
        """:meth:`apply` on features already built (loan-month rows aligned with ``targets``).

        Loans the loan table shows closed, settled, repossessed or charged off are not listed.
        ``panel`` (the validated panel the features were built from) is needed when the
        model is the sequence model or the blend, which read the payment history itself.
        """
        end = int(feats["Month"].max())
        ids = loans["Loan_ID"].astype("string").str.strip()
        gone = set(ids[inactive_loans(loans)].tolist())
        listed = ~feats["Loan_ID"].astype("string").str.strip().isin(gone).to_numpy()
        rows = np.flatnonzero(
            (feats["Month"].to_numpy() == end) & targets["Performing"].to_numpy() & listed
        )
        if not len(rows):
            return pd.DataFrame(columns=[*WATCHLIST_COLUMNS, *([RAW_P3] if raw_p3 else [])])
        latest = feats.loc[rows]
        X = latest[list(FEATURES)]
        probs = self._probabilities(X, latest["Loan_ID"], panel, loans)
        # Reasons (TreeSHAP, about a millisecond per loan) for the alert list and the band
        # just below it: the loans a team works or may work next.
        if reasons_for is None:
            band = reason_band(probs["P_3"].to_numpy(), self.alert_budget)
        else:
            wanted = pd.Index([str(i).strip() for i in reasons_for])
            keys = latest["Loan_ID"].astype("string").str.strip()
            band = np.flatnonzero(keys.isin(wanted).to_numpy(dtype=bool))
        reasons = [""] * len(X)
        if len(band):
            band_reasons = top_reasons(
                self.horizons.contributions(X.iloc[band], HORIZONS[0]), X.iloc[band]
            )
            for i, text in zip(band, band_reasons, strict=True):
                reasons[i] = text
        borrower = loans.drop_duplicates("Loan_ID")
        borrower = borrower.set_index(borrower["Loan_ID"].astype("string").str.strip())
        if "Borrower_ID" in borrower.columns:
            latest = latest.assign(Borrower_ID=latest["Loan_ID"].map(borrower["Borrower_ID"]))
        out = build_watchlist(
            latest,
            probs,
            self.survival.expected_months(latest),
            segments_by_loan(latest["Loan_ID"], segments),
            reasons,
            alert_budget=self.alert_budget,
            min_probability=self.min_probability if min_probability is None else min_probability,
        )
        if raw_p3:
            raw = pd.Series(probs["P_3"].to_numpy(dtype=float), index=latest["Loan_ID"].to_numpy())
            out[RAW_P3] = raw.reindex(out["Loan_ID"].to_numpy()).to_numpy()
        return out

    def _probabilities(
        self,
        X: pd.DataFrame,
        ids: pd.Series,
        panel: pd.DataFrame | None,
        loans: pd.DataFrame,
    ) -> pd.DataFrame:
        """``P_<h>`` of the latest rows from the chosen model (GBM, sequence or blend)."""
        kind = self.kind
        if kind == "gbm":
            return self.horizons.predict_proba_horizons(X)
        if panel is None:
            raise ValueError(f"the {kind} early-warning model needs the payment panel")
        assert self.sequence is not None
        # Only the loans being scored are read, each over its whole history.
        wanted = panel["Loan_ID"].isin(ids.unique())
        last = self.sequence.predict_proba_last(panel.loc[wanted], loans)
        p_seq = last.reindex(ids.to_numpy())
        out = pd.DataFrame(index=X.index)
        if kind == "blend":
            p_gbm = self.horizons.predict_proba_horizons(X)
        previous: np.ndarray | None = None
        for h in sorted(HORIZONS):
            p = p_seq[f"P_{h}"].to_numpy(dtype=np.float64)
            if kind == "blend":
                p = blend_logits(p_gbm[f"P_{h}"].to_numpy(), p, self.blend_weights[str(h)])
            out[f"P_{h}"] = p if previous is None else np.maximum(p, previous)
            previous = out[f"P_{h}"].to_numpy()
        return out[[f"P_{h}" for h in HORIZONS]]

    def set_alert_threshold(self, watchlist: pd.DataFrame) -> WatchlistModel:
        """Keep the lowest 3-month probability alerted on the book it was fitted on.

        One account scored alone is alerted when its probability reaches it
        (:meth:`alerted`), as it would have been in that book.
        """
        alerted = watchlist.loc[watchlist["Alert"].astype(bool), "P3"]
        self.alert_threshold_ = float(alerted.min()) if len(alerted) else 1.0
        return self

    def alerted(self, p3: float, min_probability: float | None = None) -> bool:
        """Whether a 3-month probability reaches the fitted alert threshold and the lowest
        probability alerted."""
        floor = self.min_probability if min_probability is None else min_probability
        return bool(p3 >= max(getattr(self, "alert_threshold_", 1.0), floor))

    def describe(self) -> dict[str, Any]:
        """What the model is, for a manifest."""
        return {
            "model": self.kind,
            "horizons": list(HORIZONS),
            "features": list(FEATURES),
            "alert_budget": self.alert_budget,
            "alert_min_probability": self.min_probability,
            "pd_horizons": sorted(getattr(self.horizons, "models_", {})),
            "blend_weights": dict(getattr(self, "blend_weights", {})),
        }


def segments_by_loan(loan_ids: pd.Series, segments: pd.Series | None) -> np.ndarray:
    """The segment of each of ``loan_ids`` in ``segments`` (indexed by ``Loan_ID``; IDs
    compared as stripped text); ``Unsegmented`` where it has none."""
    keys = loan_ids.astype("string").str.strip().to_numpy()
    if segments is None or not len(segments):
        return np.full(len(keys), UNSEGMENTED, dtype=object)
    lookup = pd.Series(
        np.asarray(segments, dtype=object),
        index=pd.Index(segments.index).astype("string").str.strip(),
    )
    lookup = lookup[~lookup.index.duplicated()]
    found = lookup.reindex(keys).to_numpy(dtype=object)
    return np.where(pd.isna(found), UNSEGMENTED, found)
