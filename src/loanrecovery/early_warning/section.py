"""The early-warning section of ``report.html``, rendered from an :class:`EarlyWarningResult`."""

from __future__ import annotations

import pandas as pd

from loanrecovery.early_warning.plots import budget_figure, lead_time_figure, survival_figure
from loanrecovery.early_warning.run import EarlyWarningResult
from loanrecovery.early_warning.watchlist import alert_slots
from loanrecovery.report.format import chart, table
from loanrecovery.report.jinja_env import template_environment
from loanrecovery.report.section import Section

__all__ = ["early_warning_section", "no_panel_section", "SECTION_TITLE", "SECTION_ANCHOR"]

SECTION_TITLE = "Early warning"
SECTION_ANCHOR = "early-warning"

_env = template_environment("loanrecovery.early_warning")


def _fmt(value: object) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _share(value: object) -> str:
    return "–" if value is None else f"{float(value):.0%}"  # type: ignore[arg-type]


#: The comparison models as readers see them.
MODEL_NAMES = {
    "model": "early-warning model",
    "rule": "simple rule",
    "static": "borrower and loan terms",
    "snapshot": "snapshot",
}


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
                    "Horizon": f"within {h} months",
                    "Model": MODEL_NAMES.get(name, name),
                    "AUC": r["auc"],
                    "Defaults caught at the budget (recall)": r["recall_at_budget"],
                    "Alerts that default (precision)": r["precision_at_budget"],
                }
            )
    shown = result.watchlist.head(top).drop(columns=["Month"])
    shown = shown.assign(Days_Past_Due=shown["Days_Past_Due"].round().astype("Int64"))
    html = _env.get_template("early_warning.html.j2").render(
        cutoff=d["cutoff"],
        n_loans=d["n_loans"],
        n_loan_months=d["n_loan_months"],
        budget=m["alert_budget"],
        scores=table(pd.DataFrame(rows)),
        share3=_share(m["lead_time"]["share_flagged_3m_before"]),
        share6=_share(m["lead_time"]["share_flagged_6m_before"]),
        concordance=_fmt(m["concordance"]),
        budget_chart=chart(budget_figure(m["horizons"], m["alert_budget"])),
        lead_chart=chart(lead_time_figure(d["lead_months"])),
        survival_chart=chart(survival_figure(d["km_curves"])),
        watch=table(shown),
        n_watch=len(result.watchlist),
        n_alert=int(result.watchlist["Alert"].sum()),
        n_slots=alert_slots(m["alert_budget"], len(result.watchlist)),
        min_probability=float(m.get("alert_min_probability", 0.0)),
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
