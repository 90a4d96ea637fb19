"""What applying a bundle returns: one result per book, one per account."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

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
    """

    book: Book
    risk: RiskScores
    strategies: np.ndarray
    strategy_rules: np.ndarray
    watchlist: pd.DataFrame | None = None
    recovery: RecoveryResult | None = None
    early_warning: EarlyWarningResult | None = None

    @property
    def scored(self) -> pd.DataFrame:
        """One row per accepted loan: Loan_ID, Segment, Risk_Score, Strategy, the input
        columns, Strategy_Rule and the reasons (``scored_loans.csv``)."""
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
        """The optimized recovery plan (one row per delinquent active loan)."""
        return None if self.recovery is None else self.recovery.plans["optimized"]


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
