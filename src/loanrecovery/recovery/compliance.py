"""Contact rules as hard constraints, and an independent checker of finished plans.

:func:`eligibility` builds the loan x action mask the optimizer and the baselines obey.
:func:`check_plan` re-derives every rule from the plan rows and the loan table alone (it
never sees the mask, the solver or its variables), so a bug in either side shows up as a
violation.

Rules (from :class:`loanrecovery.recovery.catalogue.ComplianceRules`):

* at most ``max_call_attempts_7d`` telephone call attempts in 7 days per borrower
  (Regulation F presumption): prior attempts (column ``Call_Attempts_Last_7D``, 0 if
  absent) plus the action's own attempts;
* contact actions are scheduled in a contact-centre hour (UTC) that is between
  ``contact_start_hour`` and ``contact_end_hour`` borrower-local time (``UTC_Offset``);
* borrowers with ``Contact_Opt_Out`` = Yes get actions of ``opt_out_channels`` only;
* legal actions only at or above the days-past-due and balance floors;
* an account already in default (``DEFAULT_DPD``+ days past due) gets a recovery action,
  never a reminder (:data:`~loanrecovery.actions.REMINDER_ACTIONS`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from loanrecovery.actions import REMINDER_ACTIONS
from loanrecovery.delinquency import DEFAULT_DPD
from loanrecovery.recovery.catalogue import Catalogue, ComplianceRules

__all__ = [
    "ComplianceReport",
    "eligibility",
    "allowed_contact_hours",
    "schedule_contacts",
    "check_plan",
    "case_attributes",
]

logger = logging.getLogger(__name__)

#: Loan columns the rules read.
OPT_OUT, UTC_OFFSET, DPD, BALANCE, PRIOR_CALLS = (
    "Contact_Opt_Out",
    "UTC_Offset",
    "Days_Past_Due",
    "Outstanding_Loan_Amount",
    "Call_Attempts_Last_7D",
)


@dataclass(frozen=True)
class ComplianceReport:
    """Outcome of :func:`check_plan`: ``satisfied`` and one line per violation kind."""

    satisfied: bool
    violations: list[str] = field(default_factory=list)
    checked_rows: int = 0


def case_attributes(loans: pd.DataFrame) -> pd.DataFrame:
    """The columns the rules need, with documented defaults for absent ones."""
    n = len(loans)
    out = pd.DataFrame(index=loans.index)
    if OPT_OUT in loans:
        out[OPT_OUT] = loans[OPT_OUT].astype(str).str.strip().str.lower().isin(["yes", "true", "1"])
    else:
        logger.warning("no %s column: every borrower is taken as contactable", OPT_OUT)
        out[OPT_OUT] = np.zeros(n, dtype=bool)
    if UTC_OFFSET in loans:
        out[UTC_OFFSET] = pd.to_numeric(loans[UTC_OFFSET], errors="coerce").fillna(0).astype(int)
    else:
        logger.warning("no %s column: contact-centre hours are taken as borrower-local", UTC_OFFSET)
        out[UTC_OFFSET] = np.zeros(n, dtype=int)
    out[DPD] = pd.to_numeric(
        loans.get(DPD, pd.Series(0, index=loans.index)), errors="coerce"
    ).fillna(0)
    out[BALANCE] = pd.to_numeric(
        loans.get(BALANCE, pd.Series(0, index=loans.index)), errors="coerce"
    ).fillna(0)
    out[PRIOR_CALLS] = pd.to_numeric(
        loans.get(PRIOR_CALLS, pd.Series(0, index=loans.index)), errors="coerce"
    ).fillna(0)
    return out


def allowed_contact_hours(offset: int, rules: ComplianceRules) -> list[int]:
    """Contact-centre hours (UTC) that fall in the borrower-local contact window."""
    return [
        h
        for h in rules.contact_centre_hours_utc
        if rules.contact_start_hour <= (h + offset) % 24 < rules.contact_end_hour
    ]


def eligibility(loans: pd.DataFrame, catalogue: Catalogue) -> np.ndarray:
    """Boolean mask (loans x catalogue actions) of the actions the rules allow."""
    rules = catalogue.rules
    case = case_attributes(loans)
    n = len(case)
    mask = np.ones((n, len(catalogue.actions)), dtype=bool)
    offsets = case[UTC_OFFSET].to_numpy()
    reachable = np.array(
        [bool(allowed_contact_hours(int(o), rules)) for o in np.unique(offsets)], dtype=bool
    )
    can_contact = (
        reachable[np.searchsorted(np.unique(offsets), offsets)] if n else np.zeros(0, bool)
    )
    opt_out = case[OPT_OUT].to_numpy()
    prior = case[PRIOR_CALLS].to_numpy()
    legal_ok = (case[DPD].to_numpy() >= rules.legal_min_days_past_due) & (
        case[BALANCE].to_numpy() >= rules.legal_min_balance
    )
    in_default = case[DPD].to_numpy() >= DEFAULT_DPD
    for j, spec in enumerate(catalogue.actions):
        if spec.name in REMINDER_ACTIONS:
            mask[:, j] &= ~in_default
        if spec.channel == "contact":
            mask[:, j] &= can_contact
        if spec.channel not in rules.opt_out_channels:
            mask[:, j] &= ~opt_out
        if spec.call_attempts > 0:
            mask[:, j] &= prior + spec.call_attempts <= rules.max_call_attempts_7d
        if spec.name in rules.legal_actions:
            mask[:, j] &= legal_ok
    return mask


def schedule_contacts(actions: np.ndarray, offsets: np.ndarray, catalogue: Catalogue) -> np.ndarray:
    """Contact-centre hour (UTC) of every contact action, spread evenly; -1 for no contact.

    Within each UTC offset, the contact actions take the allowed hours in turn.
    """
    channel = {a.name: a.channel for a in catalogue.actions}
    is_contact = np.array([channel.get(a, "") == "contact" for a in actions], dtype=bool)
    hours = np.full(len(actions), -1, dtype=int)
    for offset in np.unique(offsets[is_contact]) if is_contact.any() else []:
        idx = np.flatnonzero(is_contact & (offsets == offset))
        allowed = allowed_contact_hours(int(offset), catalogue.rules)
        if allowed:
            hours[idx] = np.asarray(allowed)[np.arange(idx.size) % len(allowed)]
    return hours


def _check_rows(
    plan: pd.DataFrame, case: pd.DataFrame, catalogue: Catalogue, problems: list[str]
) -> None:
    rules = catalogue.rules
    specs = {a.name: a for a in catalogue.actions}
    acted = plan[plan["Action"].isin(list(specs))]
    unknown = plan.loc[~plan["Action"].isin([*specs, "None", ""]), "Action"].unique()
    if len(unknown):
        problems.append(f"actions not in the catalogue: {sorted(map(str, unknown))}")
    rows = case.loc[acted["Loan_ID"]].reset_index(drop=True)
    acted = acted.reset_index(drop=True)
    channel = acted["Action"].map(lambda a: specs[a].channel)
    attempts = acted["Action"].map(lambda a: specs[a].call_attempts)
    too_many = attempts + rows[PRIOR_CALLS] > rules.max_call_attempts_7d
    if too_many.any():
        problems.append(
            f"{int(too_many.sum())} borrower(s) above {rules.max_call_attempts_7d} "
            "call attempts in 7 days"
        )
    opted = rows[OPT_OUT] & ~channel.isin(list(rules.opt_out_channels))
    if opted.any():
        problems.append(f"{int(opted.sum())} opted-out borrower(s) given a non-letter action")
    legal = acted["Action"].isin(list(rules.legal_actions))
    below = legal & (
        (rows[DPD] < rules.legal_min_days_past_due) | (rows[BALANCE] < rules.legal_min_balance)
    )
    if below.any():
        problems.append(f"{int(below.sum())} legal action(s) below the DPD or balance floor")
    reminded = acted["Action"].isin(list(REMINDER_ACTIONS)) & (rows[DPD] >= DEFAULT_DPD)
    if reminded.any():
        problems.append(f"{int(reminded.sum())} account(s) in default given a reminder")
    contact = channel == "contact"
    hour = pd.to_numeric(acted.get("Contact_Hour_UTC", pd.Series(-1, index=acted.index)))
    local = (hour + rows[UTC_OFFSET]) % 24
    outside = contact & (
        ~hour.isin(list(rules.contact_centre_hours_utc))
        | (local < rules.contact_start_hour)
        | (local >= rules.contact_end_hour)
    )
    if outside.any():
        problems.append(
            f"{int(outside.sum())} contact(s) outside {rules.contact_start_hour:02d}:00-"
            f"{rules.contact_end_hour:02d}:00 borrower-local time or outside contact-centre hours"
        )


def check_plan(
    plan: pd.DataFrame,
    loans: pd.DataFrame,
    catalogue: Catalogue,
    *,
    capacities: np.ndarray,
    budget: float | None,
    tolerance: float = 1e-6,
) -> ComplianceReport:
    """Check a plan against every rule, capacity and the budget, from its rows alone.

    Parameters
    ----------
    plan : DataFrame
        Columns ``Loan_ID``, ``Action`` (``"None"`` for no action), ``Cost`` and, for
        contact actions, ``Contact_Hour_UTC``.
    loans : DataFrame
        The delinquent loans with ``Loan_ID`` and the rule columns.
    catalogue : Catalogue
    capacities : ndarray
        Capacity per catalogue action (``inf`` for none).
    budget : float or None

    Returns
    -------
    ComplianceReport
    """
    problems: list[str] = []
    case = case_attributes(loans).set_index(loans["Loan_ID"].to_numpy())
    duplicated = plan["Loan_ID"].duplicated()
    if duplicated.any():
        problems.append(f"{int(duplicated.sum())} loan(s) with more than one action")
    missing = ~plan["Loan_ID"].isin(case.index)
    if missing.any():
        problems.append(f"{int(missing.sum())} plan row(s) for loans not in the book")
    _check_rows(plan[~missing & ~duplicated], case, catalogue, problems)
    counts = plan["Action"].value_counts()
    for spec, cap in zip(catalogue.actions, capacities, strict=True):
        used = int(counts.get(spec.name, 0))
        if used > cap + tolerance:
            problems.append(f"{spec.name}: {used} accounts above capacity {cap:g}")
    total = float(plan.loc[plan["Action"].isin(catalogue.names), "Cost"].sum())
    if budget is not None and total > budget * (1 + tolerance) + tolerance:
        problems.append(f"cost {total:,.2f} above budget {budget:,.2f}")
    return ComplianceReport(satisfied=not problems, violations=problems, checked_rows=len(plan))
