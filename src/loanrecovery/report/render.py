"""Render ``report.html``: the snapshot pipeline's sections, then any extra sections
(early warning, recovery strategies) that other stages contributed."""

from __future__ import annotations

import datetime as _dt
import html

import numpy as np
import pandas as pd

from loanrecovery import __version__
from loanrecovery.early_warning.section import (
    SECTION_ANCHOR,
    SECTION_TITLE,
    early_warning_section,
    no_panel_section,
)
from loanrecovery.recovery.section import recovery_section
from loanrecovery.report.jinja_env import template_environment
from loanrecovery.report.plots import (
    importance_figure,
    roc_figure,
    segment_shares_figure,
    strategy_pie_figure,
)
from loanrecovery.report.results import RunResult
from loanrecovery.report.section import Section, figure_to_data_uri

__all__ = ["render_report", "snapshot_sections", "stage_sections", "format_table"]


_env = template_environment("loanrecovery.report")


def _fmt(value: object) -> str:
    if isinstance(value, float | np.floating):
        value = float(value)
        if not np.isfinite(value):
            return "–"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:,.1f}"
        return f"{value:.3f}"
    if isinstance(value, int | np.integer):
        return f"{value:,}"
    return "–" if value is None else str(value)


def format_table(frame: pd.DataFrame, *, index: bool = True) -> dict[str, list]:
    """A DataFrame as header + rows of display strings for the templates."""
    shown = frame.reset_index() if index else frame
    return {
        "header": [str(c) for c in shown.columns],
        "rows": [[_fmt(v) for v in row] for row in shown.itertuples(index=False)],
    }


def snapshot_sections(result: RunResult) -> list[Section]:
    """The sections of the snapshot pipeline: data, profiles, model, strategies, insights."""
    shares = pd.Series(result.segments).value_counts(normalize=True)
    shares = shares.reindex([s for s in result.profile.index if s in shares.index])
    counts = pd.Series(result.strategies).value_counts()
    metrics = result.risk.metrics
    context = {
        "result": result,
        "metrics": metrics,
        "limits": result.limits,
        "profile": format_table(result.profile),
        "strategy_table": format_table(
            pd.DataFrame({"Loans": counts, "Share": counts / counts.sum()}).rename_axis("Strategy")
        ),
        "rule_table": format_table(
            pd.DataFrame(
                [
                    {
                        "Rule": r.name,
                        "Action": r.action,
                        "Loans": int((result.strategy_rules == r.name).sum()),
                    }
                    for r in result.policy.rules
                ]
            ),
            index=False,
        ),
        "rejects": format_table(result.validation.rejects.head(20), index=False),
        "insights": [
            {"insight": i, "table": format_table(i.table) if len(i.table) else None}
            for i in result.insights
        ],
        "segment_img": figure_to_data_uri(segment_shares_figure(shares)),
        "strategy_img": figure_to_data_uri(strategy_pie_figure(counts)),
        "baseline": result.baseline.metrics,
        "roc_img": (
            figure_to_data_uri(
                roc_figure(
                    [
                        (m.metrics["model"], m.roc["fpr"], m.roc["tpr"], m.metrics["roc_auc"])
                        for m in (result.risk, result.baseline)
                        if m.roc
                    ]
                )
            )
            if result.risk.roc
            else None
        ),
        "importance_img": figure_to_data_uri(importance_figure(result.risk.importance)),
    }
    names = ("data", "profiles", "model", "strategies", "insights")
    titles = (
        "Data and its limits",
        "Risk profiles",
        "Default-risk model",
        "Strategy per borrower",
        "Insights",
    )
    return [
        Section(
            title=title, anchor=name, html=_env.get_template(f"{name}.html.j2").render(**context)
        )
        for name, title in zip(names, titles, strict=True)
    ]


def stage_sections(result: RunResult) -> list[Section]:
    """The early-warning and recovery sections, or what they need when they could not run."""
    if result.early_warning is not None:
        early = early_warning_section(result.early_warning)
    elif result.early_warning_error is not None:
        early = Section(
            title=SECTION_TITLE,
            anchor=SECTION_ANCHOR,
            html="<p>Early warning could not run on this panel: "
            f"{html.escape(result.early_warning_error)}</p>",
        )
    else:
        early = no_panel_section()
    sections = [early]
    if result.recovery is not None:
        sections.append(recovery_section(result.recovery))
    return sections


def render_report(result: RunResult) -> str:
    """The whole report as one self-contained HTML page (charts embedded)."""
    sections = [*snapshot_sections(result), *stage_sections(result)]
    return _env.get_template("report.html.j2").render(
        sections=sections,
        source=result.source,
        version=__version__,
        generated=_dt.date.today().isoformat(),
    )
