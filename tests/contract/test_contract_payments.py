"""Bad-input rules of the payment panel: rejects with reasons, nothing silently lost."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from loanrecovery.contract.payments import (
    PANEL_COLUMNS,
    REJECT_COLUMNS,
    read_panel,
    validate_panel,
)
from loanrecovery.exceptions import DataFileError


def _panel(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(PANEL_COLUMNS))


LOANS = pd.DataFrame({"Loan_ID": ["A", "B"], "Origination_Month": [1, 2]})


def _clean_rows() -> list[tuple]:
    return [
        ("A", 1, 100.0, 100.0, 0, 900.0),
        ("A", 2, 100.0, 50.0, 30, 850.0),
        ("A", 3, 150.0, 150.0, 0, 720.0),
        ("B", 2, 80.0, 80.0, 0, 500.0),
        ("B", 3, 80.0, 80.0, 0, 430.0),
    ]


def test_clean_panel_is_accepted_whole() -> None:
    result = validate_panel(_panel(_clean_rows()), LOANS)
    assert len(result.accepted) == 5
    assert result.rejects.empty
    assert list(result.rejects.columns) == list(REJECT_COLUMNS)
    assert result.accepted["Month"].dtype == "int64"


@pytest.mark.parametrize(
    ("bad_row", "column", "reason"),
    [
        (("A", 4, 100.0, -5.0, 0, 600.0), "Amount_Paid", "negative"),
        (("A", 3, 150.0, 150.0, 0, 720.0), "Month", "duplicate loan-month"),
        (("A", 4, 100.0, 100.0, 0, float("inf")), "Outstanding_Balance", "not a number"),
        (("A", 1.5, 100.0, 100.0, 0, 600.0), "Month", "not a whole month"),
        (("A", "2024-03", 100.0, 100.0, 0, 600.0), "Month", "while the file's other months"),
        (("A", 999999, 100.0, 100.0, 0, 600.0), "Month", "far outside the book's span"),
        (("A", 4, "12,39", 100.0, 0, 600.0), "Amount_Due", "decimal comma"),
        (("C", 1, 100.0, 100.0, 0, 600.0), "Loan_ID", "not in the loan table"),
        (("B", 1, 100.0, 100.0, 0, 600.0), "Month", "before the loan's Origination_Month"),
        (("A", 4, "ten", 100.0, 0, 600.0), "Amount_Due", "not a number"),
        (("A", "May", 100.0, 100.0, 0, 600.0), "Month", "not a month"),
    ],
)
def test_each_bad_row_is_rejected_with_its_reason(bad_row: tuple, column: str, reason: str) -> None:
    panel = _panel([*_clean_rows(), bad_row])
    result = validate_panel(panel, LOANS)
    assert len(result.rejects) == 1
    reject = result.rejects.iloc[0]
    assert reject["Column"] == column
    assert reason in reject["Reason"]
    assert reject["Row"] == len(panel) + 1  # header = row 1, the bad row is last
    assert len(result.accepted) + len(result.rejects) == len(panel)


@pytest.mark.parametrize("copy", [("A", 2, 100.0, 100.0, 0, 600.0), ("A", 3, 1.0, 1.0, 0, 1.0)])
def test_conflicting_copies_of_a_loan_month_are_all_rejected(copy: tuple) -> None:
    panel = _panel([*_clean_rows(), copy])
    result = validate_panel(panel, LOANS)
    assert len(result.rejects) == 2
    assert result.rejects["Reason"].str.contains("different values").all()
    assert len(result.accepted) + len(result.rejects) == len(panel)


def test_row_order_does_not_matter() -> None:
    rows = [*_clean_rows(), ("A", 2, 1.0, 1.0, 0, 1.0), ("A", 3, 150.0, 150.0, 0, 720.0)]
    forward = validate_panel(_panel(rows), LOANS)
    backward = validate_panel(_panel(rows[::-1]), LOANS)
    columns = [c for c in forward.accepted.columns if c != "Row"]
    pd.testing.assert_frame_equal(forward.accepted[columns], backward.accepted[columns])
    assert len(forward.rejects) == len(backward.rejects) == 3
    assert not forward.rejects["Reason"].str.contains("out of order").any()


def test_months_after_the_snapshot_are_rejected() -> None:
    loans = LOANS.assign(Snapshot_Month=3)
    result = validate_panel(_panel([*_clean_rows(), ("A", 4, 1.0, 1.0, 0, 1.0)]), loans)
    assert result.rejects["Reason"].str.contains("after the as-of month 3").all()


def test_several_problems_of_one_row_are_one_line() -> None:
    panel = _panel([*_clean_rows(), ("A", 4, -1.0, -2.0, -3, 600.0)])
    result = validate_panel(panel, LOANS)
    assert len(result.rejects) == 1
    assert "(also" in result.rejects.iloc[0]["Reason"]


def test_yyyy_mm_months_become_consecutive_indices() -> None:
    panel = _panel(
        [
            ("A", "2023-11", 1.0, 1.0, 0, 5.0),
            ("A", "2023-12", 1.0, 1.0, 0, 4.0),
            ("A", "2024-01", 1.0, 1.0, 0, 3.0),
        ]
    )
    result = validate_panel(panel, pd.DataFrame({"Loan_ID": ["A"]}))
    months = result.accepted["Month"].to_numpy()
    assert result.rejects.empty
    assert list(months[1:] - months[:-1]) == [1, 1]


def test_missing_column_is_a_file_level_error() -> None:
    panel = _panel(_clean_rows()).drop(columns=["Amount_Paid"])
    with pytest.raises(DataFileError, match="Amount_Paid"):
        validate_panel(panel, LOANS, source="payments.csv")


def test_column_names_differing_in_case_are_matched() -> None:
    panel = _panel(_clean_rows()).rename(columns={"Amount_Paid": "amount paid"})
    assert len(validate_panel(panel, LOANS).accepted) == 5


def test_read_panel_counts_malformed_records(tmp_path: Path) -> None:
    path = tmp_path / "payments.csv"
    lines = [",".join(PANEL_COLUMNS)] + [",".join(map(str, r)) for r in _clean_rows()]
    lines.insert(3, "A,9,1,1,0,1,EXTRA")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = read_panel(path, LOANS)
    assert result.n_rows_in == 6
    assert len(result.accepted) + len(result.rejects) == 6
    assert 4 in set(result.rejects["Row"])  # the malformed line (header = line 1)


def test_read_panel_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="payments.csv"):
        read_panel(tmp_path / "payments.csv")


def test_a_gap_in_a_loans_months_is_kept() -> None:
    rows = [*_clean_rows(), ("A", 6, 100.0, 100.0, 0, 600.0), ("A", 7, 100.0, 0.0, 30, 600.0)]
    result = validate_panel(_panel(rows), LOANS)
    assert result.rejects.empty
    assert len(result.accepted) == len(rows)
