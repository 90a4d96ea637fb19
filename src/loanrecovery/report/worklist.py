"""The report's first section: what to do this month, from the one-row-per-account work list.

:func:`worklist_section` takes the work list (``accounts.csv``'s rows, or any frame with a
``Recommended_Action`` and a ``Segment`` column; ``Expected_Gain`` and ``Status`` are used when
present) and, optionally, the capacity used per action.
"""

from __future__ import annotations

import pandas as pd

from loanrecovery.actions import NO_ACTION
from loanrecovery.report.format import table
from loanrecovery.report.jinja_env import template_environment
from loanrecovery.report.section import Section

__all__ = ["worklist_section", "WORKLIST_ANCHOR"]

WORKLIST_ANCHOR = "work-list"
_env = template_environment("loanrecovery.report")


def worklist_section(
    accounts: pd.DataFrame,
    capacity: pd.DataFrame | None = None,
    *,
    action_column: str = "Recommended_Action",
) -> Section:
    """The work list summary: accounts per action and segment, expected gain, capacity used.

    Parameters
    ----------
    accounts : DataFrame
        One row per account with ``action_column`` and ``Segment`` (``Expected_Gain``
        optional: net recovery the action adds over doing nothing).
    capacity : DataFrame, optional
        Per action: accounts planned against the team's capacity.
    action_column : str, default="Recommended_Action"

    Returns
    -------
    Section
    """
    actions = accounts[action_column].fillna(NO_ACTION).astype(str)
    worked = accounts[actions != NO_ACTION]
    counts = pd.crosstab(worked[action_column], worked["Segment"].astype(str))
    counts["All segments"] = counts.sum(axis=1)
    counts = counts.sort_values("All segments", ascending=False).rename_axis("Action")
    counts.columns.name = None
    gain = None
    if "Expected_Gain" in accounts.columns:
        gain = float(pd.to_numeric(worked["Expected_Gain"], errors="coerce").fillna(0).sum())
        by_action = pd.to_numeric(worked["Expected_Gain"], errors="coerce").groupby(
            worked[action_column]
        )
        counts["Expected gain"] = by_action.sum().reindex(counts.index).fillna(0.0)
    html = _env.get_template("worklist.html.j2").render(
        n_accounts=len(accounts),
        n_worked=len(worked),
        n_idle=int((actions == NO_ACTION).sum()),
        gain=gain,
        counts=table(counts, index=True),
        capacity=table(capacity, index=True) if capacity is not None and len(capacity) else None,
    )
    return Section(title="What to do this month", html=html, anchor=WORKLIST_ANCHOR)
