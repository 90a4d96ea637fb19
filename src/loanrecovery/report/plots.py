"""Charts of the snapshot pipeline's report, as matplotlib figures (no computation here
beyond laying out numbers that the results object already holds)."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

__all__ = ["segment_shares_figure", "strategy_pie_figure", "roc_figure", "importance_figure"]

_SEGMENT_COLOURS = {
    "Low Risk": "#4c9a2a",
    "Moderate Risk": "#e0b000",
    "High Risk": "#e07000",
    "Critical Risk": "#c0202a",
}


def segment_shares_figure(shares: pd.Series) -> Figure:
    """Bar chart of the share of loans in each segment."""
    fig = Figure(figsize=(5.5, 3.2))
    ax = fig.subplots()
    colours = [_SEGMENT_COLOURS.get(str(s), "#4a6fa5") for s in shares.index]
    ax.bar([str(s) for s in shares.index], shares.to_numpy() * 100, color=colours)
    ax.set_ylabel("% of loans")
    ax.set_title("Risk profiles")
    for i, value in enumerate(shares.to_numpy()):
        ax.annotate(f"{value:.1%}", (i, value * 100), ha="center", va="bottom", fontsize=8)
    fig.tight_layout()
    return fig


def strategy_pie_figure(counts: pd.Series) -> Figure:
    """Pie chart of the strategies assigned, with a legend instead of crowded labels."""
    fig = Figure(figsize=(6.4, 3.6))
    ax = fig.subplots()
    total = float(counts.sum())
    wedges, *_ = ax.pie(
        counts.to_numpy(),
        autopct=lambda pct: f"{pct:.1f}%" if pct >= 4 else "",
        startangle=90,
        counterclock=False,
        pctdistance=0.75,
        textprops={"fontsize": 8},
    )
    labels = [f"{name} ({count / total:.1%})" for name, count in counts.items()]
    ax.legend(
        wedges, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False
    )
    ax.set_title("Strategy distribution")
    ax.axis("equal")
    fig.tight_layout()
    return fig


def roc_figure(curves: list[tuple[str, list[float], list[float], float]]) -> Figure:
    """Out-of-fold ROC curves: one ``(label, fpr, tpr, auc)`` per model."""
    fig = Figure(figsize=(4.4, 4.0))
    ax = fig.subplots()
    for (label, fpr, tpr, auc), colour in zip(
        curves, ("#4a6fa5", "#e07000", "#4c9a2a"), strict=False
    ):
        ax.plot(fpr, tpr, color=colour, label=f"{label} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1, label="chance")
    ax.set_xlabel("False positive rate")
    ax.set_ylabel("True positive rate")
    ax.set_title("ROC curves (out-of-fold)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def importance_figure(importance: pd.Series, top: int = 15) -> Figure:
    """Horizontal bars of the largest feature importances."""
    shown = importance.head(top)[::-1]
    fig = Figure(figsize=(5.5, 0.28 * len(shown) + 1.0))
    ax = fig.subplots()
    ax.barh([str(i) for i in shown.index], shown.to_numpy(), color="#4a6fa5")
    ax.set_xlabel("importance")
    ax.set_title("What drives the risk score")
    fig.tight_layout()
    return fig
