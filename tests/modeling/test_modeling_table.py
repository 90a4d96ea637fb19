"""Column roles, target parsing and the leak guard of `prepare_table`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loanrecovery.exceptions import DataFileError, DataQualityWarning
from loanrecovery.modeling.table import parse_target, prepare_table

TARGET = "TARGET_LABEL_BAD=1"


def test_roles_detected_from_data(loan_table: pd.DataFrame) -> None:
    prepared = prepare_table(loan_table, target=TARGET)
    assert prepared.roles["Loan_ID"] == "id"
    assert prepared.roles["Comment"] == "free text"
    assert prepared.roles["Gender"] == "protected"
    assert prepared.roles["Income"] == "numeric text"
    assert prepared.roles["Grade"] == "categorical"
    assert set(prepared.X.columns) == {"Days_Past_Due", "Utilisation", "Income", "Grade", "Noise"}
    income = prepared.X["Income"].to_numpy()
    expected = loan_table["Income"].str.replace(r"[$, ]", "", regex=True).astype(float)
    np.testing.assert_allclose(income, expected.to_numpy())
    assert {"Loan_ID", "Comment", "Gender"} <= set(prepared.excluded)
    assert prepared.protected.columns.tolist() == ["Gender"]


def test_allow_protected_keeps_the_column(loan_table: pd.DataFrame) -> None:
    prepared = prepare_table(loan_table, target=TARGET, allow_protected=True)
    assert "Gender" in prepared.X.columns


def test_missing_and_other_target_values_are_counted_and_excluded() -> None:
    values = pd.Series(["1", "0", None, "0", "?", "1", "", "2"], name="y")
    y, summary = parse_target(values)
    assert summary.positive == "1"
    assert summary.n_missing == 2
    assert summary.n_other == 2
    assert np.isnan(y).sum() == 4
    assert np.nansum(y) == 2


def test_non_binary_target_without_positive_asks_for_it() -> None:
    values = pd.Series(["good", "bad", "good"], name="creditability")
    with pytest.raises(DataFileError, match="--positive"):
        parse_target(values)
    y, summary = parse_target(values, positive="bad")
    assert y.tolist() == [0.0, 1.0, 0.0]
    with pytest.raises(DataFileError, match="not a value"):
        parse_target(values, positive="ugly")


def test_several_good_values_are_named_or_chosen_with_negative() -> None:
    values = pd.Series(
        ["Fully Paid", "Charged Off", "Current", "Fully Paid", "Charged Off"], name="loan_status"
    )
    with pytest.warns(DataQualityWarning, match="--negative"):
        y, summary = parse_target(values, positive="Charged Off")
    assert y.tolist() == [0.0, 1.0, 0.0, 0.0, 1.0]
    assert summary.n_other == 0
    y, summary = parse_target(values, positive="Charged Off", negative=("Fully Paid",))
    assert np.isnan(y[2]) and y[[0, 1, 3, 4]].tolist() == [0.0, 1.0, 0.0, 1.0]
    assert summary.negative == ["Fully Paid"] and summary.n_other == 1
    with pytest.raises(DataFileError, match="--negative 'Paid'"):
        parse_target(values, positive="Charged Off", negative=("Paid",))
    with pytest.raises(DataFileError, match="--negative 'Charged Off'"):
        parse_target(values, positive="Charged Off", negative=("Charged Off",))


def test_leak_is_dropped_with_a_warning(loan_table: pd.DataFrame) -> None:
    frame = loan_table.copy()
    bad = frame[TARGET].to_numpy()
    # A charge-off amount: positive only for bad loans (and missing otherwise).
    frame["ChgOffPrinGr"] = np.where(bad == 1, np.linspace(1000, 5000, len(frame)), np.nan)
    frame["ChgOffPrinGr"] = frame["ChgOffPrinGr"].map(
        lambda v: "$0.00 " if v != v else f"${v:,.2f} "
    )
    with pytest.warns(DataQualityWarning, match="ChgOffPrinGr"):
        prepared = prepare_table(frame, target=TARGET)
    assert prepared.roles["ChgOffPrinGr"] == "leak"
    assert "ChgOffPrinGr" not in prepared.X.columns
    assert prepared.leaks["ChgOffPrinGr"] >= 0.97


def test_unknown_column_is_named(loan_table: pd.DataFrame) -> None:
    with pytest.raises(DataFileError, match="'nope' not found"):
        prepare_table(loan_table, target="nope")


def test_canonical_treatment_outcome_and_after_the_fact_columns_are_never_features():
    from loanrecovery.modeling import prepare_table
    from loanrecovery.simulate import simulate_portfolio

    loans = simulate_portfolio(600, 24, 3, truth=False).loans
    prepared = prepare_table(loans, target="Default_Next_6M")
    never = {
        "Recovery_Status",
        "Collection_Attempts",
        "Collection_Method",
        "Legal_Action_Taken",
        "Gender",
        "Loan_Status",
        "Last_Month",
        "Snapshot_Month",
        "Loan_ID",
        "Borrower_ID",
    }
    assert not never & set(prepared.X.columns)
    # like `run`: loans already in default or closed are not modelled
    dpd = loans["Days_Past_Due"].to_numpy()
    closed = (loans["Outstanding_Loan_Amount"].to_numpy() <= 0) & (dpd <= 0)
    assert prepared.target.n_not_modelled == int(((dpd >= 90) | closed).sum())
    assert len(prepared.y) == len(loans) - prepared.n_excluded
