"""Render ``report.html``: one page a manager reads top-down.

What to do this month (the work list summary), who is about to default (early warning), why
(action effects, strategies, risk segments), then the model and the data's limits. Each part
is a :class:`Section` rendered from a results object; the page only orders them.
"""

from __future__ import annotations

import datetime as _dt
import html
from itertools import groupby
from typing import Any

import pandas as pd

from loanrecovery import __version__
from loanrecovery.early_warning.section import (
    SECTION_ANCHOR,
    SECTION_TITLE,
    early_warning_section,
    no_panel_section,
)
from loanrecovery.recovery.section import recovery_section
from loanrecovery.report.format import chart, table
from loanrecovery.report.jinja_env import template_environment
from loanrecovery.report.plots import (
    importance_figure,
    roc_figure,
    segment_shares_figure,
    strategy_bars_figure,
)
from loanrecovery.report.results import RunResult
from loanrecovery.report.section import Section
from loanrecovery.report.worklist import WORKLIST_ANCHOR, worklist_section

__all__ = [
    "render_report",
    "snapshot_sections",
    "stage_sections",
    "order_sections",
    "format_table",
    "SECTION_ORDER",
]

_env = template_environment("loanrecovery.report")

#: Top-down order of the report's sections by anchor; unknown anchors go before the model.
SECTION_ORDER = (
    WORKLIST_ANCHOR,
    "early-warning",
    "recovery-strategies",
    "strategies",
    "profiles",
    "model",
    "insights",
    "data",
)
#: Insights the recovery section already states (with the evidence rule); not repeated.
_REPEATED_INSIGHTS = "action_effect_"
_METRICS = (
    ("roc_auc", "ROC AUC (ranking of risk; 0.5 = chance)"),
    ("accuracy", "Accuracy (share classified right)"),
    ("precision", "Precision (flagged loans that went bad)"),
    ("recall", "Recall (bad loans flagged)"),
    ("f1", "F1 (balance of precision and recall)"),
    ("threshold", "Default risk from which a loan is flagged"),
)


def format_table(frame: pd.DataFrame, *, index: bool = True) -> dict[str, Any]:
    """A DataFrame as labelled header, alignment and display rows for the templates."""
    return table(frame, index=index)


def _metric_rows(metrics: dict[str, Any], baseline: dict[str, Any]) -> list[list[str]]:
    def show(value: object) -> str:
        return "–" if value is None else f"{float(value):.3f}"  # type: ignore[arg-type]

    rows = [[name, show(metrics.get(k)), show(baseline.get(k))] for k, name in _METRICS]
    if metrics.get("brier") is not None:
        rows.append(
            ["Brier score (mean squared error of the risk)", f"{metrics['brier']:.4f}", "–"]
        )
    return rows


def _insights(result: RunResult) -> list[dict[str, Any]]:
    """Insights grouped under one heading per claim (none repeated from the recovery section)."""
    shown = [i for i in result.insights if not i.key.startswith(_REPEATED_INSIGHTS)]
    return [
        {
            "claim": claim,
            "items": [
                {"insight": i, "table": table(i.table, index=True) if len(i.table) else None}
                for i in items
            ],
        }
        for claim, items in ((c, list(g)) for c, g in groupby(shown, key=lambda i: i.claim))
    ]


def _shares(result: RunResult) -> pd.Series:
    """Share of every loan per segment, in the profile's order, closed loans last."""
    shares = pd.Series(result.segments).astype(str).value_counts(normalize=True)
    order = [str(s) for s in result.profile.index if str(s) in shares.index]
    order += sorted(s for s in shares.index if s not in order and s != "Closed")
    order += ["Closed"] if "Closed" in shares.index else []
    return shares.reindex(order)


def snapshot_sections(result: RunResult) -> list[Section]:
    """The sections of the snapshot pipeline: data, profiles, model, strategies, insights."""
    counts = pd.Series(result.strategies).value_counts()
    metrics = result.risk.metrics
    curves = [
        (m.metrics["model"], m.roc["fpr"], m.roc["tpr"], m.metrics["roc_auc"])
        for m in (result.risk, result.baseline)
        if m.roc
    ]
    context = {
        "result": result,
        "metrics": metrics,
        "metric_rows": _metric_rows(metrics, result.baseline.metrics),
        "limits": result.limits,
        "strategy_choice": result.metrics().get("strategy_choice") or {},
        "profile": table(result.profile, index=True),
        "segment_table": table(result.segment_table, index=True),
        "strategy_table": table(
            pd.DataFrame({"Loans": counts, "Share": counts / counts.sum()}).rename_axis("Action"),
            index=True,
        ),
        "rule_table": table(
            pd.DataFrame(
                [
                    {
                        "Rule": r.name,
                        "Action": r.action,
                        "Loans": int((result.strategy_rules == r.name).sum()),
                    }
                    for r in result.policy.rules
                ]
            )
        ),
        "rejects": table(result.validation.rejects.head(20)),
        "insight_groups": _insights(result),
        "segment_chart": chart(segment_shares_figure(_shares(result))),
        "strategy_chart": chart(strategy_bars_figure(counts)),
        "baseline": result.baseline.metrics,
        "roc_chart": chart(roc_figure(curves)) if result.risk.roc else None,
        "importance_chart": chart(importance_figure(result.risk.importance)),
    }
    names = ("data", "profiles", "model", "strategies", "insights")
    titles = (
        "Data and its limits",
        "Risk segments",
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


def _worklist(result: RunResult) -> Section:
    """The work list: ``result.accounts`` when the run has one, else the strategies."""
    accounts = getattr(result, "accounts", None)
    if isinstance(accounts, pd.DataFrame) and "Recommended_Action" in accounts.columns:
        return worklist_section(accounts)
    frame = pd.DataFrame({"Strategy": result.strategies, "Segment": result.segments})
    return worklist_section(frame, action_column="Strategy")


def order_sections(sections: list[Section]) -> list[Section]:
    """Sections in :data:`SECTION_ORDER` (others before the model, in their own order)."""
    rank = {a: i for i, a in enumerate(SECTION_ORDER)}
    before_model = SECTION_ORDER.index("model") - 0.5
    return sorted(sections, key=lambda s: rank.get(s.anchor, before_model))


def render_report(result: RunResult) -> str:
    """The whole report as one self-contained HTML page (charts embedded)."""
    extra = stage_sections(result)
    sections = order_sections([_worklist(result), *snapshot_sections(result), *extra])
    return _env.get_template("report.html.j2").render(
        sections=sections,
        source=result.source,
        version=__version__,
        generated=_dt.date.today().isoformat(),
    )
