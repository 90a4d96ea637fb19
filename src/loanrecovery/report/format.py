"""What readers see: column labels in words, cell values formatted, charts with their captions.

Every table of the report goes through :func:`table` (labels in words, numbers right-aligned
and text left-aligned, whole numbers without decimals) and every chart through :func:`chart`,
which reads the title and axis labels off the figure itself, so the caption under the image
says exactly what the image shows, and refuses a chart that lacks one of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from loanrecovery.modeling.reason_text import readable_name
from loanrecovery.report.section import figure_to_data_uri

__all__ = ["Chart", "chart", "label", "cell", "table", "thousands", "legend_outside", "PLAN_NAMES"]

#: Names readers see for the plans of the recovery stage.
PLAN_NAMES = {"seed_rules": "original rules", "greedy": "greedy", "optimized": "optimized"}

_LABELS = {
    "roc_auc": "ROC AUC",
    "auc": "AUC",
    "f1": "F1",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "p3": "Default risk, 3 months",
    "p6": "Default risk, 6 months",
    "p12": "Default risk, 12 months",
    "pd": "Default risk (PD)",
    "loan_id": "Loan ID",
    "borrower_id": "Borrower ID",
    "days_past_due": "Days past due",
    "expected_months_to_default": "Expected months to default",
    "income_to_emi_ratio": "Income / instalment",
    "emi_burden": "Instalment / income",
    "utilization_ratio": "Share of the loan still owed",
    "collateral_cover": "Collateral / balance",
    "num_missed_payments": "Missed payments",
    "outstanding_loan_amount": "Outstanding balance",
    "monthly_emi": "Monthly instalment",
    **{k: v for k, v in PLAN_NAMES.items()},
}
_WHOLE = re.compile(r"days|loans|accounts|count|rank|rows|actions|bad$|reminders|cured", re.I)


def label(name: object) -> str:
    """A column or metric name in words: ``"Observed_Bad_Rate"`` -> ``"Observed bad rate"``."""
    text = str(name)
    if text.lower() in _LABELS:
        return _LABELS[text.lower()]
    if "=" in text:
        base, level = text.split("=", 1)
        return f"{label(base)}: {level}"
    if " " in text:  # already words
        return text
    return readable_name(text)


def cell(value: object, column: str = "") -> tuple[str, bool]:
    """A value as display text, and whether it is a number (right-aligned)."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–", True
    if isinstance(value, bool | np.bool_):
        return ("yes" if value else "no"), False
    if isinstance(value, int | np.integer):
        return f"{int(value):,}", True
    if isinstance(value, float | np.floating):
        number = float(value)
        if number.is_integer() or _WHOLE.search(column) or abs(number) >= 1000:
            return f"{number:,.0f}", True
        if abs(number) >= 10:
            return f"{number:,.1f}", True
        text = f"{number:.4f}".rstrip("0").rstrip(".")
        return ("0" if text in ("-0", "") else text), True
    return str(value), False


def table(frame: pd.DataFrame, *, index: bool = False) -> dict[str, Any]:
    """A DataFrame as labelled header, per-column alignment and display rows."""
    shown = frame.reset_index() if index else frame
    columns = [str(c) for c in shown.columns]
    rows = [
        [cell(v, c) for v, c in zip(row, columns, strict=True)]
        for row in shown.itertuples(index=False)
    ]
    numeric = [
        bool(rows) and all(r[i][1] or r[i][0] == "–" for r in rows) for i in range(len(columns))
    ]
    return {
        "header": [label(c) for c in columns],
        "num": numeric,
        "rows": [[text for text, _ in r] for r in rows],
    }


def thousands(axis: Any) -> None:
    """Tick labels with thousands separators (never ``1e6`` above the axis)."""
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 10 else f"{v:g}"))


def legend_outside(ax: Axes, **kwargs: Any) -> None:
    """The legend to the right of the plot, where it covers no curve or bar."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=8, **kwargs)


@dataclass(frozen=True)
class Chart:
    """A chart as embedded in the report: the image and what its caption says."""

    uri: str
    title: str
    x_label: str
    y_label: str

    @property
    def caption(self) -> str:
        """The caption under the image (also its alt text)."""
        return f"{self.title}. Horizontal axis: {self.x_label}. Vertical axis: {self.y_label}."


def chart(fig: Figure) -> Chart:
    """Render ``fig`` with its title and axis labels as the caption.

    Raises
    ------
    ValueError
        When the figure has no title or an axis label is missing.
    """
    axes = [ax for ax in fig.get_axes() if ax.get_visible()]
    sup = getattr(fig, "_suptitle", None)
    suptitle = sup.get_text() if sup is not None else ""
    title = suptitle or next((ax.get_title() for ax in axes if ax.get_title()), "")
    x_label = next((ax.get_xlabel() for ax in axes if ax.get_xlabel()), "")
    y_label = next((ax.get_ylabel() for ax in axes if ax.get_ylabel()), "")
    if not (title and x_label and y_label):
        raise ValueError(
            f"a report chart needs a title and both axis labels; got title={title!r}, "
            f"x={x_label!r}, y={y_label!r}"
        )
    return Chart(figure_to_data_uri(fig), title, x_label, y_label)
