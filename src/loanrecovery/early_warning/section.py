"""The early-warning section of ``report.html``, rendered from an :class:`EarlyWarningResult`."""

from __future__ import annotations

from loanrecovery.early_warning.plots import budget_figure, lead_time_figure, survival_figure
from loanrecovery.early_warning.run import EarlyWarningResult
from loanrecovery.report.jinja_env import template_environment
from loanrecovery.report.section import Section, figure_to_data_uri

__all__ = ["early_warning_section", "no_panel_section", "SECTION_TITLE", "SECTION_ANCHOR"]

SECTION_TITLE = "Early warning"
SECTION_ANCHOR = "early-warning"

_env = template_environment("loanrecovery.early_warning")


def _fmt(value: object) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _share(value: object) -> str:
    return "–" if value is None else f"{float(value):.0%}"  # type: ignore[arg-type]


def early_warning_section(result: EarlyWarningResult, *, top: int = 15) -> Section:
    """Render the early-warning section.

    Parameters
    ----------
    result : EarlyWarningResult
        Output of :func:`~loanrecovery.early_warning.run_early_warning`.
    top : int, default=15
        Watchlist rows shown in the report.

    Returns
    -------
    Section
    """
    m, d = result.metrics, result.details
    rows = []
    for h, entry in m["horizons"].items():
        named = [("model", entry)] + [
            (k.removeprefix("baseline_"), v) for k, v in entry.items() if k.startswith("baseline")
        ]
        for name, r in named:
            rows.append(
                {
                    "horizon": f"{h} months",
                    "name": name,
                    "auc": _fmt(r["auc"]),
                    "recall": _fmt(r["recall_at_budget"]),
                    "precision": _fmt(r["precision_at_budget"]),
                }
            )
    shown = result.watchlist.head(top).drop(columns=["Month"])
    watch = {
        "header": list(shown.columns),
        "rows": [
            [_fmt(v) if isinstance(v, float) else str(v) for v in r]
            for r in shown.itertuples(index=False)
        ],
    }
    html = _env.get_template("early_warning.html.j2").render(
        cutoff=d["cutoff"],
        n_loans=d["n_loans"],
        n_loan_months=d["n_loan_months"],
        budget=m["alert_budget"],
        rows=rows,
        share3=_share(m["lead_time"]["share_flagged_3m_before"]),
        share6=_share(m["lead_time"]["share_flagged_6m_before"]),
        concordance=_fmt(m["concordance"]),
        budget_img=figure_to_data_uri(budget_figure(m["horizons"], m["alert_budget"])),
        lead_img=figure_to_data_uri(lead_time_figure(d["lead_months"])),
        survival_img=figure_to_data_uri(survival_figure(d["km_curves"])),
        watch=watch,
        n_watch=len(result.watchlist),
        n_alert=int(result.watchlist["Alert"].sum()),
    )
    return Section(title=SECTION_TITLE, html=html, anchor=SECTION_ANCHOR)


def no_panel_section() -> Section:
    """The section shown when the data has no monthly payment panel."""
    html = (
        "<p>Early warning needs a monthly payment panel (payments.csv: Loan_ID, Month, "
        "Amount_Due, Amount_Paid, Days_Past_Due, Outstanding_Balance, one row per loan per "
        "month). This data has none, so no loan could be flagged ahead of default.</p>"
    )
    return Section(title=SECTION_TITLE, html=html, anchor=SECTION_ANCHOR)
