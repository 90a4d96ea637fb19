"""The fitted snapshot risk stage of a book: features, PD, risk segment and reasons.

The segment is the risk ladder of :class:`~loanrecovery.segmentation.RiskSegmenter`: bands of
the PD, fitted on the champion's out-of-fold PDs against the target and applied on the PD the
stage gives (``docs/segments.md``). Every later stage (strategy policy, recovery plan, early
warning, ``score``) uses this one segment.

:func:`fit_book_risk` fits it on a loan table with a target (and returns the honest,
out-of-fold evaluation beside it); :meth:`BookRiskModel.apply` applies it to any loan table of
the same layout without refitting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from loanrecovery.features import LoanFeatures
from loanrecovery.modeling.champion import ChampionClassifier
from loanrecovery.modeling.reasons import IN_DEFAULT_REASON
from loanrecovery.risk import (
    FUTURE_TARGET,
    RiskModelResult,
    RiskTarget,
    fit_champion_model,
    loan_states,
)
from loanrecovery.segmentation import RiskSegmenter

__all__ = ["BookRiskModel", "RiskScores", "BookRiskFit", "fit_book_risk", "CLOSED", "N_REASONS"]

#: Segment of loans with nothing outstanding (paid off or settled).
CLOSED = "Closed"
#: Reasons given per loan.
N_REASONS = 4


@dataclass
class RiskScores:
    """What the risk stage says of every loan of a table (aligned with its rows)."""

    features: pd.DataFrame
    segments: np.ndarray
    scores: np.ndarray
    reasons: pd.DataFrame
    in_default: np.ndarray
    closed: np.ndarray


class BookRiskModel:
    """Loan features, the champion PD model and the risk segments of its PD, fitted together.

    Parameters
    ----------
    features : LoanFeatures
        Fitted feature transformer.
    segmenter : RiskSegmenter
        Fitted on the champion's out-of-fold PDs of the trainable loans against the target.
    champion : ChampionClassifier
        Fitted on the trainable loans.
    target : str
        The target the champion was trained on (``Default_Next_6M`` or ``Recovery_Status``).
        With the future target, loans 90+ days past due are in default (PD 1) and loans
        with nothing owed are closed (PD 0), as at fit time.
    n_reasons : int, default=4
        Reasons given per loan.
    """

    def __init__(
        self,
        features: LoanFeatures,
        segmenter: RiskSegmenter,
        champion: ChampionClassifier,
        target: str,
        n_reasons: int = N_REASONS,
    ) -> None:
        self.features = features
        self.segmenter = segmenter
        self.champion = champion
        self.target = target
        self.n_reasons = n_reasons

    def states(self, loans: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Loans in default and closed loans, by the rules of the target trained on."""
        if self.target != FUTURE_TARGET:
            none = np.zeros(len(loans), dtype=bool)
            return none, none.copy()
        return loan_states(loans)

    def segments_of(self, scores: np.ndarray, closed: np.ndarray) -> np.ndarray:
        """Risk segment of each PD (``Closed`` for closed loans; loans in default, PD 1, are
        in the top segment).

        Parameters
        ----------
        scores : ndarray
            PD of each loan (the model's, or out-of-fold ones in ``run``).
        closed : ndarray of bool
            Loans with nothing outstanding.
        """
        scores = np.asarray(scores, dtype=float)
        closed = np.asarray(closed, dtype=bool)
        segments = np.full(len(scores), CLOSED, dtype=object)
        if (~closed).any():
            segments[~closed] = self.segmenter.predict(np.nan_to_num(scores[~closed], nan=0.0))
        return segments

    def apply(self, loans: pd.DataFrame, *, reasons: bool = True) -> RiskScores:
        """Features, PD, segment and reasons of every loan of ``loans`` (accepted rows)."""
        X = self.features.transform(loans)
        in_default, closed = self.states(loans)
        scores = np.where(in_default, 1.0, np.where(closed, 0.0, np.nan))
        scored = ~in_default & ~closed
        columns = [f"Reason_{k}" for k in range(1, self.n_reasons + 1)]
        table = pd.DataFrame("", index=X.index, columns=columns)
        if scored.any():
            if reasons:
                raw, explained = self.champion.score_and_explain(X.loc[scored], self.n_reasons)
                scores[scored] = self.champion.calibrator_.predict(raw)
                table.loc[scored, columns] = explained.iloc[:, : self.n_reasons].to_numpy()
            else:
                scores[scored] = self.champion.predict_proba(X.loc[scored])[:, 1]
        table.loc[in_default, columns[0]] = IN_DEFAULT_REASON
        return RiskScores(
            features=X,
            segments=self.segments_of(scores, closed),
            scores=scores,
            reasons=table,
            in_default=in_default,
            closed=closed,
        )


@dataclass
class BookRiskFit:
    """The fitted stage with what its fit measured (for the report)."""

    model: BookRiskModel
    features: pd.DataFrame
    segments: np.ndarray
    observed: np.ndarray
    risk: RiskModelResult


def fit_book_risk(
    loans: pd.DataFrame, target: RiskTarget, *, random_state: int = 42
) -> BookRiskFit:
    """Fit features, the champion and the risk segments on an accepted loan table with a target.

    The segmenter is fitted on the champion's out-of-fold PDs of the trainable loans against
    their outcome. Returns the fitted :class:`BookRiskModel` and, for the report, the
    out-of-fold risk evaluation (:func:`~loanrecovery.risk.fit_champion_model`) and the
    segments of every loan by those PDs.

    Raises
    ------
    ValueError
        Fewer than 4 open loans, or one class only among the trainable loans.
    """
    transformer = LoanFeatures().fit(loans)
    features = transformer.transform(loans)
    observed = np.where(target.in_default, 1.0, target.values)
    open_loans = ~target.closed
    if open_loans.sum() < 4:
        raise ValueError(
            f"only {int(open_loans.sum())} open loans; at least 4 are needed to form risk segments"
        )
    risk = fit_champion_model(features, target, random_state=random_state)
    train = target.trainable
    segmenter = RiskSegmenter().fit(risk.scores[train], target.values[train])
    model = BookRiskModel(transformer, segmenter, risk.model, target.name)
    segments = model.segments_of(risk.scores, target.closed)
    return BookRiskFit(
        model=model, features=features, segments=segments, observed=observed, risk=risk
    )
