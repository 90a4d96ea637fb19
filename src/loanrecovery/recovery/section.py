"""The recovery-strategy section of ``report.html``, rendered from a :class:`RecoveryResult`.

Effects are stated only where the data supports them: a corrected difference whose 95%
interval is wider than the difference itself is shown as "not enough evidence", never as a
percentage with an interval spanning both signs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from loanrecovery.recovery.challenger import ChallengerTest
from loanrecovery.recovery.runner import BOUND_CHAMPION_ARM, POLICIES, RecoveryResult
from loanrecovery.report.format import PLAN_NAMES, chart, legend_outside, table, thousands
from loanrecovery.report.jinja_env import template_environment
from loanrecovery.report.section import Section

__all__ = [
    "recovery_section",
    "recovery_section_html",
    "effects_figure",
    "plans_figure",
    "effect_statement",
    "effect_statements",
    "CONTRASTS",
]

_env = template_environment("loanrecovery.recovery")

#: Pairs of actions compared in the section (action, reference).
CONTRASTS = (
    ("Legal Action", "Settlement Offer"),
    ("Call", "Automated Reminder"),
    ("Agency Placement", "Legal Notice"),
)


def effect_statement(what: str, diff: float, low: float, high: float) -> str:
    """One corrected difference per account in words, or "not enough evidence".

    Parameters
    ----------
    what : str
        What is compared ("recovery", "cost").
    diff, low, high : float
        The difference per account and its 95% interval.
    """
    if not all(np.isfinite([diff, low, high])) or (high - low) > abs(diff) or low <= 0 <= high:
        return (
            f"not enough evidence of a difference in {what} (95% interval "
            f"{low:+,.0f} to {high:+,.0f} per account)"
        )
    return f"{diff:+,.0f} {what} per account (95% interval {low:+,.0f} to {high:+,.0f})"


def effect_statements(result: RecoveryResult) -> list[str]:
    """The corrected effects of :data:`CONTRASTS`, in words, from the result's estimator."""
    est = result.estimator
    out = []
    for action, reference in CONTRASTS:
        if action not in est.actions_ or reference not in est.actions_:
            continue
        c = est.contrast(action, reference)
        recovery = effect_statement(
            "recovery", c["recovery_diff"], c["recovery_diff_low"], c["recovery_diff_high"]
        )
        cost = effect_statement("cost", c["cost_diff"], c["cost_diff_low"], c["cost_diff_high"])
        out.append(f"{action} rather than {reference}: {recovery}; {cost}.")
    return out


def effects_figure(effects: pd.DataFrame) -> Figure:
    """Naive and corrected mean recovery per action (all segments) with 95% intervals."""
    rows = effects[effects["segment"] == "All"]
    fig = Figure(figsize=(8.6, 3.8))
    ax = fig.subplots()
    x = np.arange(len(rows))
    for offset, kind, name in ((-0.2, "naive", "naive"), (0.2, "dr", "corrected (doubly robust)")):
        mean = rows[f"recovery_{kind}"].to_numpy()
        err = np.vstack([mean - rows[f"recovery_{kind}_low"], rows[f"recovery_{kind}_high"] - mean])
        ax.bar(x + offset, mean, width=0.4, yerr=err, capsize=3, label=name)
    ax.set_xticks(x, rows["action"], rotation=30, ha="right")
    ax.axhline(0, color="#777777", linewidth=0.8)
    thousands(ax.yaxis)
    ax.set_xlabel("action")
    ax.set_ylabel("12-month recovery per account (USD)")
    ax.set_title("What each action recovers: naive against corrected (95% intervals)")
    legend_outside(ax)
    fig.tight_layout()
    return fig


def plans_figure(summary: dict) -> Figure:
    """Expected net recovery and cost of each plan."""
    fig = Figure(figsize=(7.2, 3.2))
    ax = fig.subplots()
    net = [summary[p]["expected_net_recovery"] for p in POLICIES]
    cost = [summary[p]["cost"] for p in POLICIES]
    x = np.arange(len(POLICIES))
    ax.bar(x - 0.2, net, width=0.4, label="expected net recovery")
    ax.bar(x + 0.2, cost, width=0.4, label="cost")
    ax.set_xticks(x, [PLAN_NAMES.get(p, p) for p in POLICIES])
    thousands(ax.yaxis)
    ax.set_xlabel("plan")
    ax.set_ylabel("amount (USD)")
    ax.set_title("Expected net recovery and cost per plan")
    legend_outside(ax)
    fig.tight_layout()
    return fig


def _bound_text(result: RecoveryResult) -> str:
    summary = result.summary
    scope = summary.get("bound_scope")
    who = (
        "the champion arm's accounts"
        if scope == BOUND_CHAMPION_ARM
        else f"all {len(result.cases):,} planned accounts"
    )
    gap = float(summary.get("gap", float("nan")))
    gap_text = (
        "the optimized plan reaches it (optimal)"
        if np.isfinite(gap) and gap < 5e-5
        else f"the optimized plan is within {gap:.2%} of it"
    )
    return (
        f"No plan for {who} under the same capacities, budget and contact rules can expect more "
        f"than {float(summary['upper_bound']):,.0f} net recovery (upper bound from the LP "
        f"relaxation); {gap_text}."
    )


def _context(result: RecoveryResult, challenger: ChallengerTest | None) -> dict:
    plans = pd.DataFrame(
        [
            {
                "Plan": PLAN_NAMES.get(p, p),
                "Accounts": result.summary[p]["accounts"],
                "Expected recovery": result.summary[p]["expected_recovery"],
                "Cost": result.summary[p]["cost"],
                "Expected net recovery": result.summary[p]["expected_net_recovery"],
                "Constraints satisfied": bool(result.summary[p]["constraints_satisfied"]),
            }
            for p in POLICIES
        ]
    )
    opt = result.plans["optimized"]
    by_segment = opt.pivot_table(
        index="Segment", columns="Action", values="Loan_ID", aggfunc="count", fill_value=0
    )
    by_segment.columns.name = None
    capacity = result.capacity_use.rename(columns=lambda c: PLAN_NAMES.get(str(c), str(c)))
    text = None
    if challenger is not None:
        lift = effect_statement(
            "net recovery (share)",
            100 * challenger.lift,
            100 * challenger.lift_low,
            100 * challenger.lift_high,
        )
        text = (
            f"Challenger {challenger.mean_challenger:,.0f} against champion "
            f"{challenger.mean_champion:,.0f} net per account: {lift} (p = "
            f"{challenger.p_value:.3g}); {challenger.sample_size_per_arm:,} accounts per arm "
            f"would detect a {challenger.detect_lift:.0%} lift."
        )
    return {
        "n_cases": len(result.cases),
        "history_note": result.history_note,
        "plans": table(plans),
        "bound": _bound_text(result),
        "plan_chart": chart(plans_figure(result.summary)),
        "effect_chart": chart(effects_figure(result.effects)),
        "insights": effect_statements(result),
        "by_segment": table(by_segment, index=True),
        "capacity": table(capacity.rename_axis("Action"), index=True),
        "challenger": text,
    }


def recovery_section_html(result: RecoveryResult, challenger: ChallengerTest | None = None) -> str:
    """The section body as escaped HTML."""
    template = _env.get_template("recovery_section.html.j2")
    return template.render(**_context(result, challenger))


def recovery_section(result: RecoveryResult, challenger: ChallengerTest | None = None) -> Section:
    """The report section "Recovery strategies" for :func:`loanrecovery.report.render_report`."""
    return Section(
        title="Optimized recovery plan",
        html=recovery_section_html(result, challenger),
        anchor="recovery-strategies",
    )
