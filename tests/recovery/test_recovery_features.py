"""Decision features: the static columns come from the contract, never treatment or outcome."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loanrecovery.contract.schema import FEATURE_ROLES, LOAN_COLUMNS, LOAN_SPECS, Kind, Role
from loanrecovery.recovery.features import (
    _CATEGORICAL,
    PRIOR_ACTION_COLUMNS,
    STATIC_COLUMNS,
    _payment_state,
    decision_features,
    prior_actions,
    snapshot_cases,
)


def test_static_columns_are_contract_borrower_and_loan_columns_plus_opt_out() -> None:
    roles = {spec.name: spec.role for spec in LOAN_SPECS}
    contract = [c for c in STATIC_COLUMNS if c in roles]
    extra = [c for c in STATIC_COLUMNS if c not in roles]
    assert contract == [c for c in LOAN_COLUMNS if roles[c] in {Role.BORROWER, Role.LOAN}]
    assert all(roles[c] in FEATURE_ROLES for c in contract)
    assert extra == ["Contact_Opt_Out"]


def test_categorical_columns_are_the_static_categories() -> None:
    kinds = {spec.name: spec.kind for spec in LOAN_SPECS}
    expected = [c for c in STATIC_COLUMNS if kinds.get(c) is Kind.CATEGORY]
    assert list(_CATEGORICAL) == [*expected, "Contact_Opt_Out"]


def _payments() -> pd.DataFrame:
    # loan A: full, full, nothing, partial (40%), nothing; loan B: nothing, full
    return pd.DataFrame(
        {
            "Loan_ID": ["A"] * 5 + ["B"] * 2,
            "Month": [1, 2, 3, 4, 5, 3, 4],
            "Amount_Due": [100.0, 100, 100, 200, 300, 50, 50],
            "Amount_Paid": [100.0, 100, 0, 80, 0, 0, 50],
        }
    )


def _loans() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Loan_ID": ["A", "B"],
            "Loan_Status": ["Active", "Active"],
            "Days_Past_Due": [90, 30],
            "Outstanding_Loan_Amount": [1000.0, 500.0],
            "Collateral_Value": [1500.0, 0.0],
            "Monthly_EMI": [100.0, 50.0],
            "Monthly_Income": [2000.0, 1000.0],
        }
    )


def test_payment_pattern_of_each_month_counts_that_month_and_earlier_only() -> None:
    state = _payment_state(_payments()).set_index(["Loan_ID", "Month"])
    a4 = state.loc[("A", 4)]
    assert a4["Paid_Share_Last"] == pytest.approx(80 / 200)
    assert a4["No_Payment_Share_6M"] == pytest.approx(1 / 4)  # month 3 of months 1-4
    assert a4["Full_Payment_Share_12M"] == pytest.approx(2 / 4)
    assert a4["Months_Since_Full_Payment"] == 2  # last full payment in month 2
    assert state.loc[("A", 5), "No_Payment_Share_6M"] == pytest.approx(2 / 5)
    # B never paid in full before month 4: counted from the month before its first one
    assert state.loc[("B", 3), "Months_Since_Full_Payment"] == 1
    assert state.loc[("B", 4), "Months_Since_Full_Payment"] == 0
    # a later month does not change an earlier month's features
    early = _payment_state(_payments().query("Month <= 3")).set_index(["Loan_ID", "Month"])
    cols = list(early.columns)
    pd.testing.assert_frame_equal(early, state.loc[early.index, cols])


def test_history_rows_see_their_decision_month_and_snapshot_cases_the_last() -> None:
    collections = pd.DataFrame(
        {
            "Loan_ID": ["A", "B"],
            "Month": [3, 4],
            "Days_Past_Due_At_Action": [30, 30],
            "Balance_At_Action": [800.0, 500.0],
            "Arrears_At_Action": [100.0, 50.0],
        }
    )
    history = decision_features(collections, _loans(), _payments())
    state = _payment_state(_payments()).set_index(["Loan_ID", "Month"])
    assert (
        history.loc[0, "Months_Since_Full_Payment"]
        == state.loc[("A", 3)]["Months_Since_Full_Payment"]
    )
    assert history.loc[0, "Collateral_To_Balance"] == pytest.approx(1500 / 800)
    assert history.loc[0, "Arrears_To_EMI"] == pytest.approx(1.0)
    cases, snap = snapshot_cases(_loans(), _payments())
    assert list(cases["Loan_ID"]) == ["A", "B"]
    a = snap.set_index("Loan_ID").loc["A"]
    assert a["No_Payment_Share_6M"] == pytest.approx(state.loc[("A", 5), "No_Payment_Share_6M"])
    assert a["Arrears"] == pytest.approx(300.0)
    assert a["Income_To_Balance"] == pytest.approx(2000 / 1000)
    assert set(history.columns) == set(snap.columns)


def test_payment_windows_count_calendar_months_when_a_month_is_missing() -> None:
    payments = pd.DataFrame(
        {
            "Loan_ID": ["C"] * 4,
            "Month": [1, 2, 9, 10],  # months 3-8 not recorded
            "Amount_Due": [100.0] * 4,
            "Amount_Paid": [0.0, 0.0, 100.0, 100.0],
        }
    )
    state = _payment_state(payments).set_index("Month")
    # months 5-10 hold two recorded months, both paid: the unpaid months 1-2 are outside
    assert state.loc[10, "No_Payment_Share_6M"] == 0.0
    assert state.loc[2, "No_Payment_Share_6M"] == 1.0
    assert state.loc[10, "Full_Payment_Share_12M"] == pytest.approx(2 / 4)
    assert state.loc[2, "Months_Since_Full_Payment"] == 2
    assert state.loc[10, "Months_Since_Full_Payment"] == 0


def _actions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Loan_ID": ["A", "A", "A", "B"],
            "Month": [2, 5, 20, 9],
            "Action": ["Call", "Legal Action", "Field Visit", "SMS"],
            "Recovered_Amount": [1e9, 1e9, 1e9, 1e9],  # outcomes must not matter
        }
    )


def test_prior_actions_count_only_earlier_months_of_the_same_loan() -> None:
    out = prior_actions(
        _actions(), np.array(["A", "A", "A", "B", "C"]), np.array([2, 6, 21, 9, 30])
    )
    assert list(out.columns) == list(PRIOR_ACTION_COLUMNS)
    # A in month 2: its month-2 action is the decision itself, nothing earlier
    assert out.loc[0].isna()["Months_Since_Last_Action"]
    assert out.loc[0, "Actions_Last_12M"] == 0
    assert out.loc[1].tolist() == [1.0, 2.0, 1.0]  # call 4 months, legal 1 month before
    assert out.loc[2, "Months_Since_Last_Action"] == 1  # the field visit of month 20
    assert out.loc[2, "Actions_Last_12M"] == 1  # months 9-20: the field visit only
    assert out.loc[2, "Months_Since_Legal_Action"] == 16
    assert out.loc[3, "Actions_Last_12M"] == 0 and np.isnan(out.loc[4, "Months_Since_Last_Action"])


def test_prior_actions_are_opt_in_and_the_same_for_history_and_snapshot() -> None:
    actions = _actions().assign(
        Days_Past_Due_At_Action=30, Balance_At_Action=500.0, Arrears_At_Action=50.0
    )
    plain = decision_features(actions, _loans(), _payments())
    assert not set(PRIOR_ACTION_COLUMNS) & set(plain.columns)
    history = decision_features(actions, _loans(), _payments(), prior=True)
    assert history.loc[1, "Months_Since_Last_Action"] == 3  # legal (5) after call (2)
    loans = _loans().assign(Snapshot_Month=20)
    _, snap = snapshot_cases(loans, _payments(), actions)
    a = snap.set_index("Loan_ID").loc["A"]
    # the month-20 action is the one being decided at the snapshot: not prior
    assert a["Months_Since_Last_Action"] == 15 and a["Months_Since_Legal_Action"] == 15
    assert set(history.columns) == set(snap.columns)
    _, without = snapshot_cases(_loans(), _payments())
    assert set(without.columns) == set(plain.columns)
