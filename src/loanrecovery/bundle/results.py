"""What applying a bundle returns: one result per book, one per account."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from loanrecovery.bundle.views import plan_view, scored_view, watchlist_view
from loanrecovery.contract.book import Book
from loanrecovery.early_warning.run import EarlyWarningResult
from loanrecovery.recovery.runner import RecoveryResult
from loanrecovery.risk_model import RiskScores

__all__ = ["BookResult", "AccountResult", "ACCOUNT_STATUSES", "SCORED_LEADING_COLUMNS"]

#: The first columns of ``scored_loans.csv``.
SCORED_LEADING_COLUMNS = ["Loan_ID", "Segment", "Risk_Score", "Strategy"]

#: The status of an account, from the loan table.
ACCOUNT_STATUSES: tuple[str, ...] = ("Current", "Delinquent", "In Default", "Closed", "Charged Off")


@dataclass
class BookResult:
    """Every stage's answer for a book.

    Attributes
    ----------
    book : Book
        The validated book applied to.
    risk : RiskScores
        Features, segment, PD and reasons of every accepted loan (loan-table order).
    strategies, strategy_rules : ndarray of str
        The policy's action for every loan and the rule that chose it.
    watchlist : DataFrame or None
        The early-warning watchlist (with a payment panel).
    recovery : RecoveryResult or None
        Action effects and the plans (with a collection history).
    early_warning : EarlyWarningResult or None
        The out-of-time evaluation, when the result comes from ``run`` (fit and apply).
    accounts : DataFrame or None
        One row per account, one answer (:func:`~loanrecovery.bundle.accounts.build_accounts`):
        ``scored``, the watchlist and ``plan`` files are views of it.
    """

    book: Book
    risk: RiskScores
    strategies: np.ndarray
    strategy_rules: np.ndarray
    watchlist: pd.DataFrame | None = None
    recovery: RecoveryResult | None = None
    early_warning: EarlyWarningResult | None = None
    accounts: pd.DataFrame | None = None

    def tables(self) -> dict[str, pd.DataFrame | None]:
        """The files ``run`` and ``apply`` write: ``accounts`` and its views ``scored``,
        ``watchlist`` and ``plan`` (None when there is no such table)."""
        return {
            "accounts": self.accounts,
            "scored": self.scored,
            "watchlist": None
            if self.accounts is None
            else watchlist_view(self.accounts, self.watchlist),
            "plan": self.plan,
        }

    @property
    def scored(self) -> pd.DataFrame:
        """One row per accepted loan: Loan_ID, Segment, Risk_Score, Strategy, the input
        columns, Strategy_Rule and the reasons (``scored_loans.csv``); a view of
        :attr:`accounts` when there is one."""
        if self.accounts is not None:
            return scored_view(self.accounts, self.book.loans, self.risk.reasons)
        loans = self.book.loans
        lead = pd.DataFrame(
            {
                "Loan_ID": loans["Loan_ID"].to_numpy(),
                "Segment": self.risk.segments,
                "Risk_Score": np.round(self.risk.scores, 6),
                "Strategy": self.strategies,
            }
        )
        rest = loans.drop(columns=["Loan_ID"]).reset_index(drop=True)
        out = pd.concat([lead, rest], axis=1)
        out["Strategy_Rule"] = self.strategy_rules
        return pd.concat([out, self.risk.reasons.reset_index(drop=True)], axis=1)

    @property
    def plan(self) -> pd.DataFrame | None:
        """The optimized recovery plan (one row per delinquent active loan), sorted by
        priority; a view of :attr:`accounts` when there is one."""
        if self.recovery is None:
            return None
        plan = self.recovery.plans["optimized"]
        return plan if self.accounts is None else plan_view(self.accounts, plan)


@dataclass(frozen=True)
class AccountResult:
    """One account's answer: status, segment, probabilities, reasons and the action."""

    loan_id: str
    status: str
    outstanding: float
    days_past_due: float
    segment: str
    pd_3m: float | None
    pd_6m: float | None
    pd_12m: float | None
    risk_band: str
    reasons: tuple[str, ...]
    recommended_action: str
    action_why: str
    expected_gain: float | None
    on_watchlist: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (lists for tuples, None for missing figures)."""
        out = asdict(self)
        out["reasons"] = list(self.reasons)
        for key in ("pd_3m", "pd_6m", "pd_12m", "expected_gain"):
            value = out[key]
            out[key] = None if value is None or not np.isfinite(value) else float(value)
        return out
