"""Every value of the four files within the rules of the data contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loanrecovery.actions import ACTIONS, NO_ACTION
from loanrecovery.simulate import SimulatedBook, write_book
from loanrecovery.simulate._tables import CANONICAL_COLUMNS, EXTRA_LOAN_COLUMNS


@pytest.fixture(scope="module")
def files(small_book: SimulatedBook, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_book(small_book, tmp_path_factory.mktemp("book"))


def test_loan_columns_in_order(files: dict[str, Path]) -> None:
    loans = pd.read_csv(files["loans.csv"])
    assert list(loans.columns) == list(CANONICAL_COLUMNS) + list(EXTRA_LOAN_COLUMNS)


def test_loan_values_follow_the_contract(files: dict[str, Path]) -> None:  # noqa: C901
    # "None" (no action) must stay a string: pandas would read it as missing
    df = pd.read_csv(files["loans.csv"], keep_default_na=False, na_values={"Recovery_Status": [""]})
    assert df["Loan_ID"].str.fullmatch(r"LN_\d+").all() and df["Loan_ID"].is_unique
    assert df["Borrower_ID"].str.fullmatch(r"BRW_\d+").all()
    assert df["Age"].between(18, 100).all()
    assert set(df["Gender"]) <= {"Male", "Female"}
    assert set(df["Employment_Type"]) <= {
        "Salaried",
        "Self-Employed",
        "Business Owner",
        "Unemployed",
    }
    assert (df["Monthly_Income"] > 0).all()
    assert df["Num_Dependents"].between(0, 20).all()
    assert (df["Loan_Amount"] > 0).all()
    assert df["Loan_Tenure"].between(1, 600).all()
    assert df["Interest_Rate"].between(0, 100).all()
    assert set(df["Loan_Type"]) <= {"Personal", "Home", "Auto", "Business", "Education"}
    assert (df["Collateral_Value"] >= 0).all()
    unsecured = df["Loan_Type"].isin(["Personal", "Education"])
    assert (df.loc[unsecured, "Collateral_Value"] == 0).all()
    assert (df.loc[~unsecured, "Collateral_Value"] > 0).all()
    assert (df["Outstanding_Loan_Amount"] >= 0).all()
    assert (df["Monthly_EMI"] > 0).all()
    assert set(df["Payment_History"]) <= {"On-Time", "Delayed", "Missed"}
    assert (df["Num_Missed_Payments"] >= 0).all()
    assert (df["Days_Past_Due"] >= 0).all() and (df["Days_Past_Due"] % 30 == 0).all()
    status = df["Recovery_Status"].dropna()
    assert set(status) <= {"Fully Recovered", "Partially Recovered", "Written Off"}
    assert (df["Collection_Attempts"] >= 0).all()
    assert set(df["Collection_Method"]) <= set(ACTIONS) | {NO_ACTION}
    assert set(df["Legal_Action_Taken"]) <= {"Yes", "No"}
    assert set(df["Contact_Opt_Out"]) <= {"Yes", "No"}
    assert set(df["Default_Next_6M"]) <= {0, 1}
    assert (df["Snapshot_Month"] == 12).all()
    assert (df["Origination_Month"] <= 12).all() and (df["Origination_Month"] <= 0).any()
    assert df["UTC_Offset"].between(-12, 14).all()
    for column in (
        "Age",
        "Num_Dependents",
        "Loan_Tenure",
        "Num_Missed_Payments",
        "Days_Past_Due",
        "Collection_Attempts",
        "Origination_Month",
        "UTC_Offset",
        "Default_Next_6M",
    ):
        assert pd.api.types.is_integer_dtype(df[column]), column


def test_payments_and_collections_belong_to_loans(small_book: SimulatedBook) -> None:
    ids = set(small_book.loans["Loan_ID"])
    assert set(small_book.payments["Loan_ID"]) <= ids
    assert set(small_book.collections["Loan_ID"]) <= ids
    pay = small_book.payments
    assert not pay.duplicated(["Loan_ID", "Month"]).any()
    assert pay["Month"].between(1, 12).all()
    assert (pay["Amount_Paid"] >= 0).all() and (pay["Amount_Due"] >= 0).all()


def test_collection_summary_columns_match_history(small_book: SimulatedBook) -> None:
    loans = small_book.loans.set_index("Loan_ID")
    col = small_book.collections
    counts = col.groupby("Loan_ID").size()
    attempts = loans["Collection_Attempts"]
    assert (attempts.reindex(counts.index) == counts).all()
    assert (attempts.drop(counts.index) == 0).all()
    last = col.groupby("Loan_ID")["Action"].last()
    assert (loans.loc[last.index, "Collection_Method"] == last).all()
    assert set(col["Action"]) <= set(ACTIONS)
    assert (col["Cost"] > 0).all()


def test_recovered_amount_matches_payments(medium_book: SimulatedBook) -> None:
    col = medium_book.collections
    months = medium_book.truth["n_months"]
    inside = col[col["Month"] + 12 <= months].head(400)
    paid = medium_book.payments.set_index(["Loan_ID", "Month"])["Amount_Paid"]
    sums = [
        paid.reindex([(r.Loan_ID, m) for m in range(r.Month + 1, r.Month + 13)]).fillna(0).sum()
        for r in inside.itertuples()
    ]
    assert len(inside) > 50
    np.testing.assert_allclose(inside["Recovered_Amount"], sums, atol=0.1)


def test_truth_layout(small_book: SimulatedBook) -> None:
    truth = small_book.truth
    loans = small_book.loans
    active = loans.loc[loans["Loan_Status"] == "Active", "Loan_ID"]
    assert set(truth["default_probability"]) == set(active)
    po = truth["potential_outcomes"]
    assert po["actions"] == list(ACTIONS)
    assert set(po["history"]) == set(small_book.collections["Action_ID"])
    delinquent = loans.loc[
        (loans["Loan_Status"] == "Active") & (loans["Days_Past_Due"] >= 30), "Loan_ID"
    ]
    assert set(po["snapshot"]) == set(delinquent)
    for table in (po["history"], po["snapshot"]):
        for outcome in table.values():
            assert list(outcome) == list(ACTIONS)
            assert all(len(v) == 2 and v[0] >= 0 and v[1] > 0 for v in outcome.values())
    for segment, effects in truth["action_effects"].items():
        assert segment.split("|")[1] in {"secured", "unsecured"}
        assert effects["Automated Reminder"]["net_effect_vs_reminder"] == 0
