"""Whether the risk model has a signal, and the strategy ladder used when it has none.

A risk model whose out-of-fold ROC AUC interval includes 0.5 sorts borrowers no better than
chance: a rule "risk above 0.75 -> legal action" would then pick borrowers at random. When
that happens (:attr:`RiskSignal.has_signal` is False) and the configured policy uses
risk-score thresholds, the bundle is fitted with the fallback ladder of
``data/policy_no_signal.toml`` instead (days past due and segment only), stores that choice
in its manifest, and the terminal summary and the report say so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from loanrecovery._toml_lines import builtin_text
from loanrecovery.strategy import StrategyPolicy, parse_policy

__all__ = [
    "RiskSignal",
    "auc_interval",
    "risk_signal",
    "uses_risk_thresholds",
    "no_signal_policy",
    "fallback_note",
    "NO_SIGNAL_POLICY",
]

#: The fallback ladder's file in ``loanrecovery.data``.
NO_SIGNAL_POLICY = "policy_no_signal.toml"
#: AUC of a model that sorts by chance.
CHANCE_AUC = 0.5


def auc_interval(auc: float, n_pos: int, n_neg: int) -> tuple[float, float]:
    """95% confidence interval of a ROC AUC (Hanley & McNeil 1982)."""
    if n_pos == 0 or n_neg == 0 or not math.isfinite(auc):
        return (math.nan, math.nan)
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (
        n_pos * n_neg
    )
    half = 1.959964 * math.sqrt(max(var, 0.0))
    return (max(0.0, auc - half), min(1.0, auc + half))


@dataclass(frozen=True)
class RiskSignal:
    """The risk model's out-of-fold AUC and its 95% interval.

    Attributes
    ----------
    auc, low, high : float
        AUC and interval (NaN when the model could not be evaluated).
    n_pos, n_neg : int
        Bad and good outcomes it was evaluated on.
    """

    auc: float
    low: float
    high: float
    n_pos: int
    n_neg: int

    @property
    def has_signal(self) -> bool:
        """The interval lies wholly above 0.5 (an unevaluated model has no shown signal)."""
        return math.isfinite(self.low) and self.low > CHANCE_AUC

    def describe(self) -> str:
        """``ROC AUC 0.517 (95% CI 0.452-0.582)``."""
        if not math.isfinite(self.auc):
            return "ROC AUC not measured"
        return f"ROC AUC {self.auc:.3f} (95% CI {self.low:.3f}-{self.high:.3f})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (NaN as None)."""

        def num(value: float) -> float | None:
            return value if math.isfinite(value) else None

        return {
            "roc_auc": num(self.auc),
            "ci_low": num(self.low),
            "ci_high": num(self.high),
            "n_bad": self.n_pos,
            "n_good": self.n_neg,
            "has_signal": self.has_signal,
        }


def risk_signal(metrics: Mapping[str, Any]) -> RiskSignal:
    """The signal of a risk model from its metrics (``roc_auc``, ``n_train``,
    ``positive_rate``, as :func:`loanrecovery.risk.fit_risk_model` reports them)."""
    auc = metrics.get("roc_auc")
    auc = math.nan if auc is None else float(auc)
    n_train = int(metrics.get("n_train", 0) or 0)
    n_pos = int(round(n_train * float(metrics.get("positive_rate", 0.0) or 0.0)))
    low, high = auc_interval(auc, n_pos, n_train - n_pos)
    return RiskSignal(auc=auc, low=low, high=high, n_pos=n_pos, n_neg=n_train - n_pos)


def uses_risk_thresholds(policy: StrategyPolicy) -> bool:
    """Some rule of ``policy`` has a ``risk_above`` or ``risk_at_most`` condition."""
    return any(
        rule.risk_above is not None or rule.risk_at_most is not None for rule in policy.rules
    )


def no_signal_policy() -> StrategyPolicy:
    """The fallback ladder: days past due and segment, no risk-score threshold."""
    text, source = builtin_text(("loanrecovery.data", NO_SIGNAL_POLICY))
    return parse_policy(text, source)


def fallback_note(signal: RiskSignal, replaced: StrategyPolicy, fallback: StrategyPolicy) -> str:
    """The sentence the terminal summary and the report show when the fallback is used."""
    return (
        f"No risk signal: the risk model's {signal.describe()} includes 0.5 (chance), so the "
        f"risk-score thresholds of {replaced.name!r} are not used; strategies follow "
        f"{fallback.name!r} (days past due and segment only)."
    )
