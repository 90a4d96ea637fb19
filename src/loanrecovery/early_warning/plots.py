"""Charts of the early-warning section (layout only: every number comes from the result)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

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
                label=name.replace("baseline_", ""),
                color=_MODEL_COLOURS.get(name, "#555555"),
            )
        ax.set_xticks(x + width * (len(names) - 1) / 2)
        ax.set_xticklabels([f"within {h} months" for h in horizons])
        ax.set_title(f"{title} at a {budget:.0%} alert budget")
        ax.set_ylim(0, 1)
    axes[0].legend(fontsize=8)
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
    ax.set_xlabel("months between the first alert and 90+ DPD")
    ax.set_ylabel("defaults")
    ax.set_title(f"Lead time of the test window's defaults ({missed} never flagged)")
    fig.tight_layout()
    return fig


def survival_figure(curves: pd.DataFrame) -> Figure:
    """Kaplan-Meier share not yet in default, per segment."""
    fig = Figure(figsize=(5.5, 3.4))
    ax = fig.subplots()
    order = [s for s in _SEGMENT_COLOURS if s in curves.columns]
    order += [c for c in curves.columns if c not in order]
    for name in order:
        ax.step(
            curves.index,
            curves[name] * 100,
            where="post",
            label=name,
            color=_SEGMENT_COLOURS.get(name),
        )
    ax.set_xlabel("months after the cut-off")
    ax.set_ylabel("% not yet 90+ DPD")
    ax.set_title("Months to default per segment (test window)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
