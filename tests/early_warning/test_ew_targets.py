"""Future targets: horizon windows, censoring, and no month after a default."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loanrecovery.early_warning.targets import make_targets


def _panel() -> pd.DataFrame:
    # D defaults (90 DPD) in month 5; P is paid off after month 3; R runs to the end (8).
    rows = [("D", m, d) for m, d in zip(range(1, 7), [0, 0, 30, 60, 90, 120], strict=True)]
    rows += [("P", m, 0) for m in range(1, 4)]
    rows += [("R", m, 0) for m in range(1, 9)]
    frame = pd.DataFrame(rows, columns=["Loan_ID", "Month", "Days_Past_Due"])
    return frame.sort_values(["Loan_ID", "Month"]).reset_index(drop=True)


def _at(frame: pd.DataFrame, targets: pd.DataFrame, loan: str, month: int) -> pd.Series:
    row = frame.index[(frame["Loan_ID"] == loan) & (frame["Month"] == month)][0]
    return targets.loc[row]


def test_horizon_labels_and_performing_months() -> None:
    panel = _panel()
    t = make_targets(panel, (3, 6))
    assert _at(panel, t, "D", 1)["Y_3"] == 0  # default in month 5 > 1 + 3
    assert _at(panel, t, "D", 2)["Y_3"] == 1  # 5 <= 2 + 3
    assert _at(panel, t, "D", 1)["Y_6"] == 1
    assert not _at(panel, t, "D", 5)["Performing"]  # the default month itself
    assert np.isnan(_at(panel, t, "D", 6)["Y_3"])  # after the default: never used
    assert _at(panel, t, "P", 2)["Y_6"] == 0  # left the book without default: known 0
    assert _at(panel, t, "R", 5)["Y_3"] == 0  # seen through month 8
    assert np.isnan(_at(panel, t, "R", 6)["Y_3"])  # 6 + 3 > 8: censored


def test_labels_as_of_a_cutoff_never_look_past_it() -> None:
    panel = _panel()
    t = make_targets(panel, (3,), as_of=4)
    # D's default (month 5) is after the cut-off: as of month 4 it is still performing
    assert np.isnan(t["Default_Month"].iloc[0])
    assert _at(panel, t, "D", 1)["Y_3"] == 0  # seen performing through month 4
    assert np.isnan(_at(panel, t, "D", 2)["Y_3"])  # 2 + 3 > 4: unknown as of month 4
    assert not _at(panel, t, "R", 5)["Performing"]  # after the cut-off


def test_early_known_defaults_past_the_end_are_not_labelled() -> None:
    panel = _panel()
    t = make_targets(panel, (6,), as_of=6)
    # month 2 + 6 > 6: D's default in month 5 is known, but its non-defaulting peers of
    # month 2 are not, so month 2 is unlabelled for both
    assert np.isnan(_at(panel, t, "D", 2)["Y_6"])
    assert np.isnan(_at(panel, t, "R", 2)["Y_6"])
