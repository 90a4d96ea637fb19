"""One account through every stage: the answer a collector or the service needs at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from loanrecovery.actions import NO_ACTION, REMINDER_ACTIONS
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

__all__ = [
    "account_result",
    "account_status",
    "account_answer",
    "CLOSED_RULE",
    "CHARGED_OFF_RULE",
    "NO_REMINDER_RULE",
]

#: Why a closed loan gets no action.
CLOSED_RULE = "Closed: nothing outstanding"
#: Why a charged-off account gets no action.
CHARGED_OFF_RULE = "Charged off: written off the books, not worked"
#: Why an account in default the policy would remind gets no action.
NO_REMINDER_RULE = "In default: a reminder is no recovery action (the policy's rule: {rule})"
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
    if status not in ("Closed", "Charged Off") and effects is not None and dpd[0] >= DELINQUENT_DPD:
        best = _best_action(book, config, effects)
        if best is not None:
            action, why, gain = best
    listed: dict[int, float] | None = None
    if watchlist is not None and book.payments is not None and len(book.payments):
        segments = pd.Series(scored.segments, index=loans["Loan_ID"].to_numpy())
        table = watchlist.apply(book.payments, loans, segments=segments)
        if len(table):
            listed = {h: float(table[f"P{h}"].iloc[0]) for h in (3, 6, 12)}
    reasons = tuple(str(r) for r in scored.reasons.iloc[0] if str(r))
    answer = account_answer(
        status,
        float(scored.scores[0]),
        listed,
        watchlist is not None and listed is not None and watchlist.alerted(listed[3]),
        str(action),
        str(why),
    )
    return AccountResult(
        loan_id=str(loans["Loan_ID"].iloc[0]),
        status=status,
        outstanding=float(loans["Outstanding_Loan_Amount"].iloc[0]),
        days_past_due=float(dpd[0]),
        segment=str(scored.segments[0]),
        reasons=reasons,
        expected_gain=gain,
        **answer,
    )


def account_answer(
    status: str,
    risk_score: float,
    listed: Mapping[int, float] | None,
    alerted: bool,
    action: str,
    why: str,
) -> dict[str, Any]:
    """One account's probabilities, risk band, alert and action as ``accounts.csv`` gives
    them (:func:`~loanrecovery.bundle.accounts.build_accounts`), for the one-account paths.

    Parameters
    ----------
    status : str
        :func:`account_status` of the account.
    risk_score : float
        The risk model's PD.
    listed : mapping of int to float, optional
        The watchlist's chained probabilities by horizon in months (``P3``, ``P6`` and
        ``P12``, NaN for a horizon not fitted), None when the account is not listed.
    alerted : bool
        Whether its 3-month probability reaches the alert threshold.
    action, why : str
        The action chosen so far (the policy's or the best one) and why.

    Returns
    -------
    dict
        ``pd_3m``, ``pd_6m``, ``pd_12m`` (the watchlist's for a listed account, else the
        risk model's PD to 4 decimals as ``PD_6M``; 1 in default; none when closed),
        ``risk_band``, ``on_watchlist``, ``recommended_action`` and ``action_why`` (no
        reminder in default, no action when closed or charged off).
    """
    closed, charged = status == "Closed", status == "Charged Off"
    in_default = status == "In Default" or charged
    pds: list[float | None]
    if closed:
        pds = [None, None, None]
    elif in_default:
        pds = [1.0, 1.0, 1.0]
    elif listed is not None:
        pds = [listed.get(h) for h in (3, 6, 12)]
        pds = [None if p is None or not np.isfinite(p) else float(p) for p in pds]
    else:
        pds = [None, float(np.round(risk_score, 4)), None]
    if in_default and action in REMINDER_ACTIONS:
        action, why = NO_ACTION, NO_REMINDER_RULE.format(rule=why)
    if closed or charged:
        action, why = NO_ACTION, CLOSED_RULE if closed else CHARGED_OFF_RULE
    pd_6m = pds[1]
    return {
        "pd_3m": pds[0],
        "pd_6m": pd_6m,
        "pd_12m": pds[2],
        "risk_band": "" if pd_6m is None else str(score_band(np.array([pd_6m]))[0]),
        "on_watchlist": bool(alerted and not closed and not in_default),
        "recommended_action": action,
        "action_why": why,
    }
