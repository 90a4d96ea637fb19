"""Snapshot rows: the copied loan columns come from the contract."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loanrecovery.contract.schema import FEATURE_ROLES, LOAN_COLUMNS, LOAN_SPECS, Role
from loanrecovery.early_warning.snapshot import STATIC_LOAN_COLUMNS, snapshot_rows


def test_static_columns_are_the_contract_identifier_borrower_and_loan_columns() -> None:
    roles = {spec.name: spec.role for spec in LOAN_SPECS}
    assert list(STATIC_LOAN_COLUMNS) == [c for c in LOAN_COLUMNS if c in STATIC_LOAN_COLUMNS]
    assert {roles[c] for c in STATIC_LOAN_COLUMNS} == {Role.IDENTIFIER, Role.BORROWER, Role.LOAN}
    # Behaviour columns are rebuilt month by month; the other roles never enter.
    left_out = {c for c in LOAN_COLUMNS if c not in STATIC_LOAN_COLUMNS}
    assert all(roles[c] not in FEATURE_ROLES or roles[c] is Role.BEHAVIOUR for c in left_out)


def test_snapshot_rows_copy_static_columns_and_rebuild_behaviour() -> None:
    loans = pd.DataFrame({c: [f"{c}-a", f"{c}-b"] for c in STATIC_LOAN_COLUMNS})
    loans["Loan_ID"] = ["A", "B"]
    loans["Gender"] = ["Female", "Male"]
    panel = pd.DataFrame(
        {
            "Loan_ID": ["A", "A", "B"],
            "Month": [1, 2, 1],
            "Amount_Due": [100.0, 100.0, 50.0],
            "Amount_Paid": [0.0, 100.0, 50.0],
            "Days_Past_Due": [30, 0, 0],
            "Outstanding_Balance": [900.0, 800.0, 400.0],
        }
    )
    out = snapshot_rows(panel, loans)
    assert "Gender" not in out.columns
    assert set(STATIC_LOAN_COLUMNS) <= set(out.columns)
    assert out["Age"].tolist() == ["Age-a", "Age-a", "Age-b"]
    assert out["Num_Missed_Payments"].tolist() == [1, 1, 0]
    assert out["Payment_History"].tolist() == ["Missed", "On-Time", "On-Time"]
    np.testing.assert_array_equal(out["Outstanding_Loan_Amount"], [900.0, 800.0, 400.0])
