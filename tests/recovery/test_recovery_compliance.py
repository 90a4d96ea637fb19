"""Contact rules: the eligibility mask, contact scheduling and the independent checker."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from loanrecovery.actions import REMINDER_ACTIONS
from loanrecovery.recovery.catalogue import load_catalogue
from loanrecovery.recovery.compliance import (
    allowed_contact_hours,
    check_plan,
    eligibility,
    schedule_contacts,
)

CAT = load_catalogue()


def _loans() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Loan_ID": ["A", "B", "C", "D"],
            "Days_Past_Due": [120, 30, 150, 90],
            "Outstanding_Loan_Amount": [10_000.0, 10_000.0, 500.0, 5_000.0],
            "Contact_Opt_Out": ["No", "Yes", "No", "No"],
            "UTC_Offset": [-5, -8, -6, 9],
            "Call_Attempts_Last_7D": [0, 0, 5, 0],
        }
    )


def _col(name: str) -> int:
    return CAT.names.index(name)


def test_eligibility_applies_each_rule() -> None:
    day_shift = replace(CAT.rules, contact_centre_hours_utc=(14, 15, 16, 17))
    cat = replace(CAT, rules=day_shift)
    mask = eligibility(_loans(), cat)
    # 120 DPD, 10k balance, contactable: every action but the reminders (in default)
    reminders = np.isin(CAT.names, REMINDER_ACTIONS)
    assert mask[0, ~reminders].all() and not mask[0, reminders].any()
    assert not mask[:, reminders][[0, 2, 3]].any()  # 90+ days past due: never a reminder
    # opted out: letters only
    assert set(np.array(CAT.names)[mask[1]]) == {
        "Automated Reminder",
        "Settlement Offer",
        "Legal Notice",
    }
    assert not mask[2, _col("Legal Action")]  # balance below the floor
    assert not mask[2, _col("Call")]  # 5 prior + 3 attempts > 7 in 7 days
    assert mask[2, _col("Restructured Plan")]  # 5 + 2 = 7 is allowed
    # UTC+9: no contact-centre hour (14-17 UTC) falls in 08:00-21:00 local
    assert allowed_contact_hours(9, day_shift) == []
    assert not mask[3, _col("SMS")] and mask[3, _col("Legal Action")]


def test_scheduled_contacts_fall_in_the_local_window() -> None:
    offsets = np.array([-10, -8, -5, -4, -5, -6])
    actions = np.array(["Call", "SMS", "Field Visit", "Automated Reminder", "Call", "Legal Notice"])
    hours = schedule_contacts(actions, offsets, CAT)
    contact = np.isin(actions, ["Call", "SMS", "Field Visit"])
    local = (hours + offsets) % 24
    assert ((local[contact] >= 8) & (local[contact] < 21)).all()
    assert (hours[~contact] == -1).all()


def _plan(actions, hours, costs=None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Loan_ID": ["A", "B", "C", "D"],
            "Action": actions,
            "Cost": costs if costs is not None else [1.0] * 4,
            "Contact_Hour_UTC": hours,
        }
    )


def test_checker_accepts_a_compliant_plan() -> None:
    plan = _plan(
        ["Legal Action", "Legal Notice", "Restructured Plan", "Legal Notice"],
        [-1, -1, 15, -1],
    )
    report = check_plan(plan, _loans(), CAT, capacities=CAT.capacities(), budget=None)
    assert report.satisfied, report.violations


def test_checker_finds_every_kind_of_violation() -> None:
    plan = _plan(["Call", "SMS", "Legal Action", "Call"], [3, 18, -1, 15], costs=[5.0] * 4)
    plan.loc[len(plan)] = ["A", "SMS", 0.5, 16]
    caps = CAT.capacities({"Call": 1})
    report = check_plan(plan, _loans(), CAT, capacities=caps, budget=10.0)
    text = " | ".join(report.violations)
    assert not report.satisfied
    for fragment in (
        "more than one action",
        "opted-out",
        "below the DPD or balance floor",
        "outside 08:00-21:00",
        "above capacity",
        "above budget",
    ):
        assert fragment in text, text


def test_checker_counts_call_attempts() -> None:
    plan = _plan(
        ["Automated Reminder", "Automated Reminder", "Call", "Automated Reminder"], [-1, -1, 16, -1]
    )
    report = check_plan(plan, _loans(), CAT, capacities=CAT.capacities(), budget=None)
    assert any("call attempts in 7 days" in v for v in report.violations)


def test_checker_finds_a_reminder_in_default() -> None:
    plan = _plan(
        ["Legal Action", "Legal Notice", "Restructured Plan", "Automated Reminder"], [-1] * 4
    )
    plan.loc[2, "Contact_Hour_UTC"] = 15
    report = check_plan(plan, _loans(), CAT, capacities=CAT.capacities(), budget=None)
    assert report.violations == ["1 account(s) in default given a reminder"]
