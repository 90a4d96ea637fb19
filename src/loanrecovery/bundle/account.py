"""One account through every stage: the answer a collector or the service needs at once."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loanrecovery.actions import NO_ACTION
from loanrecovery.bundle.results import AccountResult
from loanrecovery.config import Config
from loanrecovery.contract.book import Book
from loanrecovery.delinquency import (
    CHARGED_OFF_STATUSES,
    CLOSED_STATUSES,
    DEFAULT_DPD,
    DELINQUENT_DPD,
)
from loanrecovery.early_warning.watchlist_model import WatchlistModel
from loanrecovery.modeling.scoring import score_band
from loanrecovery.recovery.compliance import eligibility
from loanrecovery.recovery.runner import EffectsFit, case_values
from loanrecovery.risk_model import BookRiskModel
from loanrecovery.strategy import assign_strategies, explain_strategies

__all__ = ["account_result", "account_status", "CLOSED_RULE"]

#: Why a closed loan gets no action.
CLOSED_RULE = "Closed: nothing outstanding"
_CLOSED_STATUSES = CLOSED_STATUSES
_CHARGED_OFF = CHARGED_OFF_STATUSES


def account_status(loans: pd.DataFrame, closed: np.ndarray) -> np.ndarray:
    """Current / Delinquent / In Default / Closed / Charged Off of every loan."""
    dpd = pd.to_numeric(loans["Days_Past_Due"], errors="coerce").fillna(0).to_numpy(float)
    status = np.where(
        dpd >= DEFAULT_DPD, "In Default", np.where(dpd > 0, "Delinquent", "Current")
    ).astype(object)
    if "Loan_Status" in loans.columns:
        raw = loans["Loan_Status"].astype("string").fillna("")
        status = np.where(raw.isin(_CLOSED_STATUSES).to_numpy(), "Closed", status)
        status = np.where(raw.isin(_CHARGED_OFF).to_numpy(), "Charged Off", status)
    return np.where(closed & (status != "Charged Off"), "Closed", status)


def _best_action(book: Book, config: Config, effects: EffectsFit) -> tuple[str, str, float] | None:
    """The allowed action of highest expected net recovery, for a delinquent account."""
    if book.collections is None:
        return None
    cases, rec, cost = case_values(
        book.loans, book.collections, book.payments, effects.estimator, config.catalogue
    )
    if not len(cases):
        return None
    allowed = eligibility(cases, config.catalogue)[0] & np.isfinite(rec[0])
    value = np.where(allowed, np.nan_to_num(rec[0]) - cost[0], -np.inf)
    best = int(np.argmax(value))
    if not np.isfinite(value[best]) or value[best] <= 0:
        return NO_ACTION, "no allowed action has a positive expected net recovery", 0.0
    names = config.catalogue.names
    why = "highest expected net recovery among the actions the contact and legal rules allow"
    return names[best], why, float(value[best])


def account_result(
    book: Book,
    risk: BookRiskModel,
    config: Config,
    *,
    watchlist: WatchlistModel | None = None,
    effects: EffectsFit | None = None,
) -> AccountResult:
    """Every stage's answer for the single account of ``book``.

    Raises
    ------
    ValueError
        ``book`` does not hold exactly one accepted loan.
    """
    if len(book.loans) != 1:
        raise ValueError(f"expected one accepted loan, got {len(book.loans)}")
    loans = book.loans
    scored = risk.apply(loans)
    dpd = loans["Days_Past_Due"].to_numpy(dtype=float)
    action = assign_strategies(config.policy, scored.scores, scored.segments, dpd)[0]
    why = explain_strategies(config.policy, scored.scores, scored.segments, dpd)[0]
    status = str(account_status(loans, scored.closed)[0])
    gain: float | None = None
    if status in ("Closed", "Charged Off"):
        action, why = NO_ACTION, CLOSED_RULE if status == "Closed" else "charged off"
    elif effects is not None and dpd[0] >= DELINQUENT_DPD:
        best = _best_action(book, config, effects)
        if best is not None:
            action, why, gain = best
    pd_3m, on_watchlist = None, False
    if watchlist is not None and book.payments is not None and len(book.payments):
        segments = pd.Series(scored.segments, index=loans["Loan_ID"].to_numpy())
        listed = watchlist.apply(book.payments, loans, segments=segments)
        if len(listed):
            pd_3m = float(listed["P3"].iloc[0])
            on_watchlist = watchlist.alerted(pd_3m)
    reasons = tuple(str(r) for r in scored.reasons.iloc[0] if str(r))
    pd_6m = float(scored.scores[0])
    return AccountResult(
        loan_id=str(loans["Loan_ID"].iloc[0]),
        status=status,
        outstanding=float(loans["Outstanding_Loan_Amount"].iloc[0]),
        days_past_due=float(dpd[0]),
        segment=str(scored.segments[0]),
        pd_3m=pd_3m,
        pd_6m=pd_6m,
        pd_12m=None,
        risk_band=str(score_band(np.array([pd_6m]))[0]),
        reasons=reasons,
        recommended_action=str(action),
        action_why=str(why),
        expected_gain=gain,
        on_watchlist=on_watchlist,
    )
