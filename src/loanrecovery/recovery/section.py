"""The recovery-strategy section of ``report.html``, rendered from a :class:`RecoveryResult`."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from loanrecovery.recovery.challenger import ChallengerTest
from loanrecovery.recovery.runner import POLICIES, RecoveryResult
from loanrecovery.report.jinja_env import template_environment
from loanrecovery.report.section import Section, figure_to_data_uri

__all__ = ["recovery_section", "recovery_section_html", "effects_figure", "plans_figure"]

_env = template_environment("loanrecovery.recovery")


def _fmt(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        number = float(value)
        if not np.isfinite(number):
            return "–"
        return f"{number:,.0f}" if abs(number) >= 100 else f"{number:,.3g}"
    if isinstance(value, int | np.integer):
        return f"{value:,}"
    return "–" if value is None else str(value)


def _table(frame: pd.DataFrame) -> dict[str, list]:
    return {
        "header": [str(c) for c in frame.columns],
        "rows": [[_fmt(v) for v in row] for row in frame.itertuples(index=False)],
    }


def effects_figure(effects: pd.DataFrame) -> Figure:
    """Naive and corrected mean recovery per action (all segments) with 95% intervals."""
    rows = effects[effects["segment"] == "All"]
    fig = Figure(figsize=(8, 3.6))
    ax = fig.subplots()
    x = np.arange(len(rows))
    for offset, kind, label in ((-0.2, "naive", "naive"), (0.2, "dr", "corrected (doubly robust)")):
        mean = rows[f"recovery_{kind}"].to_numpy()
        err = np.vstack([mean - rows[f"recovery_{kind}_low"], rows[f"recovery_{kind}_high"] - mean])
        ax.bar(x + offset, mean, width=0.4, yerr=err, capsize=3, label=label)
    ax.set_xticks(x, rows["action"], rotation=30, ha="right")
    ax.set_ylabel("12-month recovery per account (USD)")
    ax.legend()
    return fig


def plans_figure(summary: dict) -> Figure:
    """Expected net recovery and cost of each plan."""
    fig = Figure(figsize=(6, 3))
    ax = fig.subplots()
    net = [summary[p]["expected_net_recovery"] for p in POLICIES]
    cost = [summary[p]["cost"] for p in POLICIES]
    x = np.arange(len(POLICIES))
    ax.bar(x - 0.2, net, width=0.4, label="expected net recovery")
    ax.bar(x + 0.2, cost, width=0.4, label="cost")
    ax.set_xticks(x, POLICIES)
    ax.set_ylabel("USD")
    ax.legend()
    return fig


def _context(result: RecoveryResult, challenger: ChallengerTest | None) -> dict:
    plans = pd.DataFrame(
        [
            {
                "plan": p,
                "accounts": result.summary[p]["accounts"],
                "expected recovery": result.summary[p]["expected_recovery"],
                "cost": result.summary[p]["cost"],
                "expected net recovery": result.summary[p]["expected_net_recovery"],
                "constraints satisfied": result.summary[p]["constraints_satisfied"],
            }
            for p in POLICIES
        ]
    )
    opt = result.plans["optimized"]
    by_segment = opt.pivot_table(
        index="Segment", columns="Action", values="Loan_ID", aggfunc="count", fill_value=0
    ).reset_index()
    capacity = result.capacity_use.reset_index().rename(columns={"index": "Action"})
    text = None
    if challenger is not None:
        text = (
            f"Challenger {challenger.mean_challenger:,.0f} against champion "
            f"{challenger.mean_champion:,.0f} net per account: lift {challenger.lift:+.1%} "
            f"(95% interval {challenger.lift_low:+.1%} to {challenger.lift_high:+.1%}, "
            f"p = {challenger.p_value:.3g}); {challenger.sample_size_per_arm:,} accounts per "
            f"arm would detect a {challenger.detect_lift:.0%} lift."
        )
    return {
        "n_cases": len(result.cases),
        "history_note": result.history_note,
        "plans": _table(plans),
        "upper_bound": _fmt(result.summary["upper_bound"]),
        "gap": f"{result.summary['gap']:.2e}",
        "plan_chart": figure_to_data_uri(plans_figure(result.summary)),
        "effect_chart": figure_to_data_uri(effects_figure(result.effects)),
        "insights": result.insights,
        "by_segment": _table(by_segment),
        "capacity": _table(capacity),
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
