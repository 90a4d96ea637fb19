"""Charts of the snapshot pipeline's report, as matplotlib figures (no computation here
beyond laying out numbers that the results object already holds). Every chart has a title and
both axis labels with units; legends sit outside the plot."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from loanrecovery.report.format import label, legend_outside, thousands

__all__ = [
    "segment_shares_figure",
    "strategy_bars_figure",
    "strategy_pie_figure",
    "roc_figure",
    "importance_figure",
    "SEGMENT_COLOURS",
]

SEGMENT_COLOURS = {
    "Low Risk": "#4c9a2a",
    "Moderate Risk": "#e0b000",
    "High Risk": "#e07000",
    "Critical Risk": "#c0202a",
    "Unsegmented": "#4a6fa5",
    "Closed": "#9a9a9a",
}


def segment_shares_figure(shares: pd.Series) -> Figure:
    """Bar chart of the share of loans in each segment (closed loans included)."""
    fig = Figure(figsize=(6.0, 3.2))
    ax = fig.subplots()
    colours = [SEGMENT_COLOURS.get(str(s), "#4a6fa5") for s in shares.index]
    ax.bar([str(s) for s in shares.index], shares.to_numpy() * 100, color=colours)
    ax.set_ylabel("loans (% of all loans)")
    ax.set_xlabel("risk segment")
    ax.set_title("Loans per risk segment")
    ax.set_ylim(0, max(float(shares.max()) * 100 * 1.18, 1.0))
    for i, value in enumerate(shares.to_numpy()):
        ax.annotate(f"{value:.1%}", (i, value * 100), ha="center", va="bottom", fontsize=8)
    fig.tight_layout()
    return fig


def strategy_bars_figure(counts: pd.Series) -> Figure:
    """Horizontal bars of the loans given each action (largest first)."""
    counts = counts.sort_values()
    fig = Figure(figsize=(6.0, 0.34 * len(counts) + 1.3))
    ax = fig.subplots()
    ax.barh([str(s) for s in counts.index], counts.to_numpy(), color="#4a6fa5")
    total = float(counts.sum()) or 1.0
    for i, value in enumerate(counts.to_numpy()):
        ax.annotate(f" {value:,} ({value / total:.1%})", (value, i), va="center", fontsize=8)
    ax.set_xlim(0, float(counts.max()) * 1.35 if len(counts) else 1.0)
    thousands(ax.xaxis)
    ax.set_xlabel("loans (count)")
    ax.set_ylabel("action")
    ax.set_title("Action per loan")
    fig.tight_layout()
    return fig


#: Kept for callers of the former pie chart: the same counts, as bars with axes.
strategy_pie_figure = strategy_bars_figure


def roc_figure(curves: list[tuple[str, list[float], list[float], float]]) -> Figure:
    """Out-of-fold ROC curves: one ``(label, fpr, tpr, auc)`` per model."""
    fig = Figure(figsize=(6.4, 3.8))
    ax = fig.subplots()
    for (name, fpr, tpr, auc), colour in zip(
        curves, ("#4a6fa5", "#e07000", "#4c9a2a"), strict=False
    ):
        ax.plot(fpr, tpr, color=colour, label=f"{name} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1, label="chance")
    ax.set_xlabel("good loans flagged (false positive rate, share)")
    ax.set_ylabel("bad loans flagged (true positive rate, share)")
    ax.set_title("ROC curves (out-of-fold)")
    legend_outside(ax)
    fig.tight_layout()
    return fig


def importance_figure(importance: pd.Series, top: int = 15) -> Figure:
    """Horizontal bars of the largest feature importances, features named in words."""
    shown = importance.head(top)[::-1]
    total = float(importance.sum()) or 1.0
    fig = Figure(figsize=(6.0, 0.28 * len(shown) + 1.2))
    ax = fig.subplots()
    ax.barh([label(i) for i in shown.index], shown.to_numpy() / total * 100, color="#4a6fa5")
    ax.set_xlabel("importance (% of the total)")
    ax.set_ylabel("feature")
    ax.set_title("What drives the risk score")
    fig.tight_layout()
    return fig
