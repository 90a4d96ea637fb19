"""The original write-up's four "actionable insights", computed from the data at hand.

Each insight states the write-up's claim, then what this data says, with counts and a 95%
confidence interval where a rate or ratio is reported. Nothing is written in: when the data
cannot answer, the insight says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from loanrecovery.features import safe_ratio

__all__ = ["Insight", "risk_ratio", "compute_insights"]

_Z95 = float(stats.norm.ppf(0.975))
REMINDER_ACTIONS = ("Automated Reminder", "SMS")


@dataclass
class Insight:
    """One computed insight.

    Attributes
    ----------
    key : str
        Stable identifier (used in metrics.json).
    claim : str
        What the original write-up claimed.
    finding : str
        What this data says, in one or two sentences with the figures.
    table : DataFrame
        The figures behind the finding.
    caveat : str
        What the figure cannot tell (e.g. observational, not causal).
    """

    key: str
    claim: str
    finding: str
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    caveat: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        table = self.table.reset_index() if len(self.table) else self.table
        records = table.replace({np.nan: None}).to_dict(orient="records") if len(table) else []
        return {
            "claim": self.claim,
            "finding": self.finding,
            "caveat": self.caveat,
            "table": records,
        }


def wilson_interval(successes: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval of a proportion."""
    if n == 0:
        return (math.nan, math.nan)
    p = successes / n
    denom = 1 + _Z95**2 / n
    centre = (p + _Z95**2 / (2 * n)) / denom
    half = _Z95 * math.sqrt(p * (1 - p) / n + _Z95**2 / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def risk_ratio(bad_a: int, n_a: int, bad_b: int, n_b: int) -> tuple[float, float, float]:
    """Risk ratio of group a over group b with its 95% CI (Katz log method).

    A zero cell gets the Haldane-Anscombe correction (0.5 added to every cell).
    """
    if n_a == 0 or n_b == 0:
        return (math.nan, math.nan, math.nan)
    a, b = float(bad_a), float(bad_b)
    na, nb = float(n_a), float(n_b)
    if a == 0 or b == 0 or a == na or b == nb:
        a, b, na, nb = a + 0.5, b + 0.5, na + 1.0, nb + 1.0
    ratio = (a / na) / (b / nb)
    se = math.sqrt(1 / a - 1 / na + 1 / b - 1 / nb)
    return (ratio, ratio * math.exp(-_Z95 * se), ratio * math.exp(_Z95 * se))


def _group_table(bad: np.ndarray, group: np.ndarray, labels: tuple[str, str]) -> pd.DataFrame:
    rows = []
    for flag, label in zip((True, False), labels, strict=True):
        members = bad[group == flag]
        n, k = len(members), int(members.sum())
        low, high = wilson_interval(k, n)
        rows.append(
            {
                "Group": label,
                "Loans": n,
                "Bad": k,
                "Bad_Rate": k / n if n else math.nan,
                "CI_Low": low,
                "CI_High": high,
            }
        )
    return pd.DataFrame(rows).set_index("Group")


def _comparison(
    key: str,
    claim: str,
    bad: np.ndarray,
    group: np.ndarray,
    labels: tuple[str, str],
    outcome: str,
) -> Insight:
    table = _group_table(bad, group, labels)
    (n_a, k_a), (n_b, k_b) = table[["Loans", "Bad"]].to_numpy(dtype=int)
    if min(n_a, n_b) == 0:
        return Insight(
            key,
            claim,
            f"Not testable here: the group '{labels[0 if n_a == 0 else 1]}' is empty in this data.",
            table,
        )
    ratio, low, high = risk_ratio(k_a, n_a, k_b, n_b)
    table["Risk_Ratio"] = [ratio, 1.0]
    verdict = "higher" if low > 1 else "lower" if high < 1 else "not significantly different"
    finding = (
        f"{labels[0]}: {k_a}/{n_a} ({k_a / n_a:.1%}) had {outcome}, against "
        f"{k_b}/{n_b} ({k_b / n_b:.1%}) for {labels[1]}: risk ratio {ratio:.2f} "
        f"(95% CI {low:.2f}-{high:.2f}), {verdict}."
    )
    return Insight(key, claim, finding, table)


def _collection_methods(loans: pd.DataFrame, collections: pd.DataFrame | None) -> Insight:
    claim = "Legal action recovers 28% more than a settlement offer but costs 45% more."
    caveat = (
        "Observational: the legacy policy gave harsher actions to riskier accounts, so "
        "these raw averages are biased; see the recovery-strategy section for effects "
        "corrected for that."
    )
    if collections is not None and len(collections):
        frame = collections.copy()
        balance = frame["Balance_At_Action"] if "Balance_At_Action" in frame else None
        frame["Recovery_Rate"] = (
            safe_ratio(frame["Recovered_Amount"].to_numpy(), balance.to_numpy(), 10.0)
            if balance is not None
            else np.nan
        )
        table = frame.groupby("Action").agg(
            Actions=("Recovered_Amount", "size"),
            Mean_Recovered=("Recovered_Amount", "mean"),
            Mean_Cost=("Cost", "mean"),
            Mean_Recovery_Rate=("Recovery_Rate", "mean"),
        )
        table["Net_Per_Action"] = table["Mean_Recovered"] - table["Mean_Cost"]
        table = table.sort_values("Mean_Cost")
        finding = _legal_vs_settlement(table)
        return Insight("recovery_by_collection_method", claim, finding, table, caveat)
    if {"Collection_Method", "Recovery_Status"} <= set(loans.columns):
        frame = loans.dropna(subset=["Collection_Method", "Recovery_Status"])
        if len(frame):
            table = pd.crosstab(
                frame["Collection_Method"], frame["Recovery_Status"], normalize="index"
            )
            table.insert(0, "Loans", frame.groupby("Collection_Method").size())
            finding = (
                "Share of each recovery outcome by collection method. The data holds no "
                "amounts recovered and no costs, so the recovery-versus-cost claim cannot "
                "be tested."
            )
            return Insight("recovery_by_collection_method", claim, finding, table, caveat)
    return Insight(
        "recovery_by_collection_method",
        claim,
        "Not testable here: no collection history in the data.",
    )


def _legal_vs_settlement(table: pd.DataFrame) -> str:
    if not {"Legal Action", "Settlement Offer"} <= set(table.index):
        return (
            "Mean recovered amount and cost per action (both legal action and settlement "
            "offers are needed for the write-up's comparison)."
        )
    legal, settle = table.loc["Legal Action"], table.loc["Settlement Offer"]
    rec = (
        legal["Mean_Recovered"] / settle["Mean_Recovered"] - 1
        if settle["Mean_Recovered"]
        else math.nan
    )
    cost = legal["Mean_Cost"] / settle["Mean_Cost"] - 1 if settle["Mean_Cost"] else math.nan
    return (
        f"Raw averages: legal action recovered {rec:+.0%} against settlement offers, at "
        f"{cost:+.0%} cost (net per action {legal['Net_Per_Action']:,.0f} against "
        f"{settle['Net_Per_Action']:,.0f})."
    )


def _reminders(
    collections: pd.DataFrame | None, payments: pd.DataFrame | None, segment_of: pd.Series
) -> Insight:
    claim = "Automated reminders are enough for low-risk borrowers."
    if collections is None or payments is None or not len(collections):
        return Insight(
            "reminders_by_segment",
            claim,
            "Not testable here: needs a collection history and a monthly payment panel.",
        )
    sent = collections[collections["Action"].isin(REMINDER_ACTIONS)][["Loan_ID", "Month"]]
    if not len(sent):
        return Insight("reminders_by_segment", claim, "No reminders in the collection history.")
    last_month = int(payments["Month"].max())
    sent = sent[sent["Month"] + 3 <= last_month]
    panel = payments[["Loan_ID", "Month", "Days_Past_Due"]]
    merged = sent.merge(panel, on="Loan_ID", suffixes=("_sent", ""))
    window = merged[
        (merged["Month"] > merged["Month_sent"]) & (merged["Month"] <= merged["Month_sent"] + 3)
    ]
    cured = window.groupby(["Loan_ID", "Month_sent"])["Days_Past_Due"].min().eq(0)
    sent = sent.set_index(["Loan_ID", "Month"])
    sent["Worked"] = cured.reindex(sent.index).fillna(False).to_numpy()
    sent["Segment"] = segment_of.reindex(sent.index.get_level_values(0)).to_numpy()
    rows = []
    for seg, grp in sent.groupby("Segment"):
        k, n = int(grp["Worked"].sum()), len(grp)
        low, high = wilson_interval(k, n)
        rows.append(
            {
                "Segment": seg,
                "Reminders": n,
                "Cured_Within_3M": k,
                "Cure_Rate": k / n,
                "CI_Low": low,
                "CI_High": high,
            }
        )
    table = pd.DataFrame(rows).set_index("Segment")
    best = table["Cure_Rate"].idxmax() if len(table) else "none"
    finding = (
        f"A reminder 'worked' when the account was back to 0 days past due within 3 "
        f"months. Cure rate was highest in {best} "
        f"({table.loc[best, 'Cure_Rate']:.1%}); see the table for every profile."
    )
    return Insight(
        "reminders_by_segment",
        claim,
        finding,
        table,
        "Observational: reminders went mostly to early-stage accounts, which cure "
        "more often anyway. Segments are the borrowers' current risk segments.",
    )


def compute_insights(
    loans: pd.DataFrame,
    bad: np.ndarray | None,
    segments: np.ndarray,
    *,
    collections: pd.DataFrame | None = None,
    payments: pd.DataFrame | None = None,
    outcome: str = "a bad outcome",
) -> list[Insight]:
    """Compute the four insights.

    Parameters
    ----------
    loans : DataFrame
        Accepted canonical loans.
    bad : ndarray or None
        1 = bad outcome, 0 = good, NaN = unknown (the risk target).
    segments : ndarray
        Segment of each loan.
    collections, payments : DataFrame, optional
        The collection history and monthly payment panel, when the data has them.
    outcome : str
        The bad outcome in words.
    """
    insights = []
    known = np.zeros(len(loans), dtype=bool) if bad is None else ~np.isnan(bad)
    y = np.nan_to_num(bad if bad is not None else np.zeros(len(loans))).astype(int)[known]
    claim_util = (
        "High-income borrowers with loan utilization above 0.85 are 5x more likely to default."
    )
    claim_missed = "Borrowers with 3+ missed payments are far more likely to default."
    if known.sum() == 0:
        insights.append(
            Insight("high_income_high_utilization", claim_util, "Not testable: no outcome.")
        )
        insights.append(
            Insight("three_plus_missed_payments", claim_missed, "Not testable: no outcome.")
        )
    else:
        sub = loans.loc[known]
        income = sub["Monthly_Income"].to_numpy(dtype=float)
        utilization = safe_ratio(
            sub["Outstanding_Loan_Amount"].to_numpy(), sub["Loan_Amount"].to_numpy(), 10.0
        )
        high_income = income >= np.quantile(income, 0.75)
        group = high_income & (utilization > 0.85)
        insight = _comparison(
            "high_income_high_utilization",
            claim_util,
            y,
            group,
            ("High income (top quartile) and utilization > 0.85", "everyone else"),
            outcome,
        )
        insight.caveat = (
            f"High income = monthly income >= {np.quantile(income, 0.75):,.0f} (top quartile)."
        )
        insights.append(insight)
        missed = sub["Num_Missed_Payments"].to_numpy(dtype=float) >= 3
        insights.append(
            _comparison(
                "three_plus_missed_payments",
                claim_missed,
                y,
                missed,
                ("3+ missed payments", "fewer than 3"),
                outcome,
            )
        )
    insights.append(_collection_methods(loans, collections))
    segment_of = pd.Series(np.asarray(segments), index=loans["Loan_ID"].to_numpy())
    insights.append(_reminders(collections, payments, segment_of))
    return insights
