"""Charts of the early-warning section (layout only: every number comes from the result)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from loanrecovery.report.format import legend_outside

__all__ = ["budget_figure", "lead_time_figure", "survival_figure"]

_MODEL_COLOURS = {
    "model": "#2f5d9a",
    "baseline_snapshot": "#8aa0bf",
    "baseline_rule": "#e07000",
    "baseline_static": "#9a9a9a",
}
_SEGMENT_COLOURS = {
    "Low Risk": "#4c9a2a",
    "Moderate Risk": "#e0b000",
    "High Risk": "#e07000",
    "Critical Risk": "#c0202a",
}


_MODEL_NAMES = {
    "model": "early-warning model",
    "baseline_snapshot": "snapshot",
    "baseline_rule": "simple rule",
    "baseline_static": "borrower and loan terms",
}


def _value(entry: dict, key: str) -> float:
    value = entry.get(key)
    return float("nan") if value is None else float(value)


def budget_figure(horizons: dict, budget: float) -> Figure:
    """Recall and precision at the alert budget per horizon, model against baselines."""
    fig = Figure(figsize=(9.0, 3.4))
    axes = fig.subplots(1, 2)
    names = ["model", *[k for k in horizons[next(iter(horizons))] if k.startswith("baseline")]]
    width = 0.8 / len(names)
    x = np.arange(len(horizons))
    for ax, key, title in zip(
        axes, ("recall_at_budget", "precision_at_budget"), ("Recall", "Precision"), strict=True
    ):
        for i, name in enumerate(names):
            vals = [_value(h if name == "model" else h[name], key) for h in horizons.values()]
            ax.bar(
                x + i * width,
                vals,
                width,
                label=_MODEL_NAMES.get(name, name),
                color=_MODEL_COLOURS.get(name, "#555555"),
            )
        ax.set_xticks(x + width * (len(names) - 1) / 2)
        ax.set_xticklabels([f"within {h} months" for h in horizons])
        ax.set_xlabel("default horizon")
        ax.set_title(title)
        ax.set_ylim(0, 1)
        ax.set_xlabel("default horizon")
    axes[0].set_ylabel("share of defaults caught (0-1)")
    axes[1].set_ylabel("share of alerts that default (0-1)")
    fig.suptitle(f"Alerts at a {budget:.0%} alert budget: early-warning model against baselines")
    legend_outside(axes[1])
    fig.tight_layout()
    return fig


def lead_time_figure(lead_months: pd.Series) -> Figure:
    """Histogram of months between the first flag and the default (never flagged apart)."""
    fig = Figure(figsize=(5.5, 3.2))
    ax = fig.subplots()
    flagged = lead_months.dropna().astype(int)
    if len(flagged):
        bins = [float(b) for b in np.arange(0.5, flagged.max() + 1.5)]
        ax.hist(flagged, bins=bins, color="#2f5d9a")
    missed = int(lead_months.isna().sum())
    ax.set_xlabel("time from the first alert to 90+ days past due (months)")
    ax.set_ylabel("defaults (count)")
    ax.set_title(f"Lead time of the test window's defaults ({missed} never flagged)")
    fig.tight_layout()
    return fig


def survival_figure(curves: pd.DataFrame) -> Figure:
    """Kaplan-Meier share not yet in default, per segment."""
    fig = Figure(figsize=(5.5, 3.4))
    ax = fig.subplots()
    # Riskiest first: the segment with the fewest loans left out of default at the end.
    last = curves.ffill().iloc[-1] if len(curves) else pd.Series(dtype=float)
    order = sorted(curves.columns, key=lambda c: (float(last.get(c, 1.0)), str(c)))
    for name in order:
        ax.step(
            curves.index,
            curves[name] * 100,
            where="post",
            label=name,
            color=_SEGMENT_COLOURS.get(name),
        )
    ax.set_xlabel("time after the cut-off (months)")
    ax.set_ylabel("loans not yet 90+ days past due (%)")
    ax.set_title("Months to default per segment, riskiest first (test window)")
    legend_outside(ax)
    fig.tight_layout()
    return fig
