"""The loan data contract: bad rows go to rejects with reasons, nothing is lost."""

from __future__ import annotations

import string

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loanrecovery.contract import (
    LOAN_COLUMNS,
    REJECT_COLUMNS,
    apply_mapping,
    load_mapping,
    validate_loans,
)
from loanrecovery.exceptions import DataFileError, MappingError
from loanrecovery.io import read_table


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(str).astype(object)


def test_clean_table_passes_typed(loans):
    result = validate_loans(_as_text(loans), source="loans.csv")
    assert result.n_rejected == 0
    assert result.n_accepted == len(loans)
    assert list(result.accepted.columns[:21]) == list(LOAN_COLUMNS)
    assert result.accepted["Age"].dtype == "int64"  # required whole numbers: plain ints
    assert result.accepted["Monthly_Income"].dtype == float
    # extra columns are carried untouched (as read)
    assert (
        result.accepted["Default_Next_6M"].tolist() == loans["Default_Next_6M"].astype(str).tolist()
    )


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("Age", "abc", "not a number"),
        ("Age", "12", "out of range"),
        ("Age", "33.5", "not a whole number"),
        ("Loan_Amount", "-5000", "out of range"),
        ("Loan_Amount", "0", "out of range"),
        ("Loan_Tenure", "0", "out of range"),
        ("Monthly_Income", None, "missing value"),
        ("Loan_Type", "Yacht", "unknown level"),
        ("Monthly_EMI", "inf", "not a number"),
    ],
)
def test_bad_values_are_rejected_with_reason(loans, column, value, reason):
    frame = _as_text(loans)
    frame.loc[5, column] = value
    result = validate_loans(frame, source="loans.csv")
    assert result.n_rejected == 1
    reject = result.rejects.iloc[0]
    assert list(result.rejects.columns) == REJECT_COLUMNS
    assert reject["Loan_ID"] == "LN_5"
    assert reject["Row"] == 7  # header is row 1, first data row is row 2
    assert reject["Column"] == column
    assert reason in reject["Reason"]
    assert "expected" in reject["Reason"]
    assert result.n_accepted + result.n_rejected == len(loans)
    assert "LN_5" not in set(result.accepted["Loan_ID"])


def test_duplicate_loan_id_keeps_first(loans):
    frame = _as_text(loans)
    frame.loc[10, "Loan_ID"] = "LN_3"
    result = validate_loans(frame, source="loans.csv")
    assert result.n_rejected == 1
    assert "duplicate Loan_ID; first seen at row 5" in result.rejects.iloc[0]["Reason"]
    assert (result.accepted["Loan_ID"] == "LN_3").sum() == 1


def test_several_problems_in_one_row_make_one_reject(loans):
    frame = _as_text(loans)
    frame.loc[0, ["Age", "Loan_Tenure"]] = ["x", "0"]
    result = validate_loans(frame, source="loans.csv")
    assert result.n_rejected == 1
    assert "also Loan_Tenure" in result.rejects.iloc[0]["Reason"]


def test_missing_required_column_is_a_file_error(loans):
    with pytest.raises(DataFileError, match="required column missing: Monthly_EMI") as info:
        validate_loans(_as_text(loans.drop(columns="Monthly_EMI")), source="loans.csv")
    assert info.value.column == "Monthly_EMI"


def test_treatment_and_outcome_columns_are_optional(loans):
    frame = _as_text(
        loans.drop(
            columns=[
                "Recovery_Status",
                "Collection_Method",
                "Collection_Attempts",
                "Legal_Action_Taken",
                "Gender",
            ]
        )
    )
    assert validate_loans(frame, source="x").n_rejected == 0


def test_column_order_case_and_level_spelling_do_not_matter(loans):
    frame = _as_text(loans)[list(reversed(loans.columns))]
    frame = frame.rename(columns={"Loan_ID": "loan_id", "Monthly_Income": "monthly income"})
    frame["Payment_History"] = frame["Payment_History"].str.lower().str.replace("-", " ")
    result = validate_loans(frame, source="x")
    assert result.n_rejected == 0
    assert set(result.accepted["Payment_History"]) <= {"On-Time", "Delayed", "Missed"}


def test_mapping_file_renames_and_recodes(tmp_path, loans):
    frame = _as_text(loans).rename(columns={"Loan_ID": "Acct No", "Gender": "Sex"})
    frame["Sex"] = frame["Sex"].map({"Male": "M", "Female": "F"})
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        '[columns]\n"Acct No" = "Loan_ID"\nSex = "Gender"\n'
        '[values.Gender]\nM = "Male"\nF = "Female"\n',
        encoding="utf-8",
    )
    result = validate_loans(apply_mapping(frame, load_mapping(mapping)), source="x")
    assert result.n_rejected == 0
    assert set(result.accepted["Gender"]) == {"Male", "Female"}


def test_bad_mapping_files(tmp_path):
    path = tmp_path / "map.toml"
    path.write_text('[columns]\na = "Loan_ID"\nb = "Loan_ID"\n', encoding="utf-8")
    with pytest.raises(MappingError, match="several columns"):
        load_mapping(path)
    path.write_text("this is = not toml [", encoding="utf-8")
    with pytest.raises(MappingError, match="not a valid TOML"):
        load_mapping(path)


def test_rows_from_file_with_malformed_records(tmp_path, loans):
    path = tmp_path / "loans.csv"
    text = loans.head(5).to_csv(index=False).splitlines()
    text.insert(3, "LN_X,only,three")
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    result = validate_loans(read_table(path, as_text=True), source=str(path))
    assert result.n_rows_in == 6
    assert result.n_accepted == 5 and result.n_rejected == 1
    assert result.rejects.iloc[0]["Row"] == 4
    assert "fields" in result.rejects.iloc[0]["Reason"]
    assert result.row_numbers.tolist() == [2, 3, 5, 6, 7]


_cell = st.one_of(
    st.none(),
    st.text(alphabet=string.printable, max_size=8),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-(10**6), 10**7).map(str),
)


@given(st.data())
def test_any_values_conserve_rows(data):
    n = data.draw(st.integers(1, 12))
    frame = pd.DataFrame(
        {c: data.draw(st.lists(_cell, min_size=n, max_size=n)) for c in LOAN_COLUMNS}
    )
    result = validate_loans(frame, source="fuzz.csv")
    assert result.n_accepted + result.n_rejected == n
    assert result.rejects["Reason"].notna().all()
    numeric = result.accepted.select_dtypes("number")
    assert np.isfinite(numeric.to_numpy(dtype=float, na_value=0.0)).all()


def test_typed_number_columns_validate_as_their_text(loans):
    """A table built in memory (numbers typed, as the built-in book) is read without writing
    its numbers as text: the accepted rows, their types and the rejects are those of the same
    table read as text."""
    typed = loans.copy()
    typed = typed.astype({"Monthly_Income": float, "Age": float})
    typed.loc[3, "Monthly_Income"] = np.nan  # missing in a required column
    typed.loc[4, "Monthly_EMI"] = np.inf  # not finite
    typed.loc[6, "Loan_Amount"] = -5000.0  # out of range
    typed.loc[7, "Interest_Rate"] = 1.5e-7  # written 1.5e-07 as text
    typed.loc[8, "Age"] = 33.5  # not a whole number
    as_text = typed.astype(object).where(typed.notna(), None)
    as_text = as_text.map(lambda v: v if v is None else str(v))
    fast = validate_loans(typed, source="loans.csv")
    slow = validate_loans(as_text, source="loans.csv")
    assert fast.n_rejected == 4
    numeric = [c for c in LOAN_COLUMNS if pd.api.types.is_numeric_dtype(slow.accepted[c])]
    assert len(numeric) >= 8
    pd.testing.assert_frame_equal(fast.accepted[numeric], slow.accepted[numeric])
    pd.testing.assert_frame_equal(
        fast.rejects.drop(columns="Value"), slow.rejects.drop(columns="Value")
    )
    assert fast.rejects["Reason"].str.contains("not a number|missing|range|whole").all()
