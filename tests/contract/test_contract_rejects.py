"""The reject guardrail and decimal commas: a file read wrong stops with its reasons, and a
decimal comma is read right with ``decimal=","`` or refused as a format problem, never read
1,000-fold wrong."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.conftest import make_loans

from loanrecovery.config import Limits, load_config
from loanrecovery.contract.book import read_book, validate_book
from loanrecovery.contract.rejects import (
    EXIT_TOO_MANY_REJECTS,
    TooManyRejectsError,
    check_reject_share,
    top_reasons,
)
from loanrecovery.exceptions import LoanRecoveryError, PolicyError


def _comma(value: float) -> str:
    """1234.5 -> '1.234,50' (German style)."""
    return f"{value:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


def _rejects(rows: list[tuple[int, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(f"LN_{r}", r, c, v, why) for r, c, v, why in rows],
        columns=["Loan_ID", "Row", "Column", "Value", "Reason"],
    )


def test_top_reasons_count_rows_and_show_the_first_three_values_in_file_order():
    rejects = _rejects(
        [
            (5, "Age", "x", "not a number"),
            (2, "Age", "abc", "not a number"),
            (3, "Age", "abc", "not a number"),
            (4, "Age", "?", "not a number"),
            (6, "Age", "zz", "not a number"),
            (7, "Loan_Type", "Boat", "unknown level"),
        ]
    )
    reasons = top_reasons(rejects)
    assert [(r.column, r.rows) for r in reasons] == [("Age", 5), ("Loan_Type", 1)]
    assert reasons[0].examples == ("abc", "?", "x")
    assert "Age: not a number (5 rows; first values 'abc', '?', 'x')" == reasons[0].describe()


def test_check_reject_share_stops_above_the_limit_only():
    rejects = {"loans": _rejects([(r, "Age", str(r), "not a number") for r in range(2, 23)])}
    check_reject_share({"loans": {"in": 105, "rejected": 21}}, rejects, max_share=0.20)
    with pytest.raises(TooManyRejectsError) as caught:
        check_reject_share(
            {"loans": {"in": 100, "rejected": 21}},
            rejects,
            max_share=0.20,
            sources={"loans": "loans.csv"},
        )
    error = caught.value
    assert isinstance(error, LoanRecoveryError) and error.exit_code == EXIT_TOO_MANY_REJECTS == 3
    text = str(error)
    assert text.startswith("loans.csv: 21 of 100 rows of the loans table rejected (21.0%)")
    assert "Age: not a number (21 rows; first values '2', '3', '4')" in text
    assert "--accept-rejects" in text and "--max-reject-share" in text


def test_a_decimal_comma_book_is_refused_as_a_format_problem_and_stops():
    loans = make_loans(60, seed=1).astype(object)
    loans["Monthly_Income"] = [_comma(v + 0.25) for v in loans["Monthly_Income"]]
    loans["Interest_Rate"] = [_comma(v) for v in loans["Interest_Rate"]]
    book = validate_book(loans, source="loans.csv")
    assert len(book.loans) == 0
    reasons = book.rejects["loans"]
    rate = reasons.loc[reasons["Column"] == "Interest_Rate", "Reason"]
    assert rate.str.startswith("decimal comma").all()
    assert not reasons["Reason"].str.contains("out of range").any()
    with pytest.raises(TooManyRejectsError, match="decimal comma"):
        check_reject_share(book.counts(), book.rejects, sources=book.sources)


def test_12_39_is_a_format_problem_not_out_of_range():
    loans = make_loans(5, seed=2).astype(object)
    loans.loc[0, "Interest_Rate"] = "12,39"
    rejects = validate_book(loans).rejects["loans"]
    assert rejects["Column"].tolist() == ["Interest_Rate"]
    reason = rejects["Reason"].iloc[0]
    assert reason.startswith("decimal comma") and "out of range" not in reason


def test_decimal_comma_files_are_read_right_with_decimal_comma(tmp_path):
    loans = make_loans(40, seed=3)
    expected_income = loans["Monthly_Income"] + 1000.5
    text = loans.astype(object)
    for column in loans.columns[loans.dtypes == "float64"]:
        text[column] = [_comma(v) for v in loans[column]]
    text["Monthly_Income"] = [_comma(v) for v in expected_income]  # "215.422,50"
    path = tmp_path / "loans.csv"
    text.to_csv(path, sep=";", index=False)
    assert "." in path.read_text().splitlines()[1]  # thousands written with dots
    book = read_book(path, delimiter=";", decimal=",")
    assert len(book.loans) == 40 and len(book.rejects["loans"]) == 0
    by_id = book.loans.set_index("Loan_ID").loc[loans["Loan_ID"]]
    assert by_id["Monthly_Income"].to_numpy() == pytest.approx(expected_income.to_numpy())
    assert by_id["Loan_Amount"].to_numpy() == pytest.approx(loans["Loan_Amount"].to_numpy())
    assert by_id["Interest_Rate"].to_numpy() == pytest.approx(loans["Interest_Rate"].to_numpy())


def test_a_plain_file_read_with_decimal_comma_is_refused_not_misread(tmp_path):
    loans = make_loans(30, seed=4)
    path = tmp_path / "loans.csv"
    loans.to_csv(path, index=False, sep=";")
    book = read_book(path, delimiter=";", decimal=",")
    reasons = book.rejects["loans"]["Reason"]
    assert len(book.loans) == 0 and book.counts()["loans"]["rejected"] == 30
    assert reasons.str.startswith("decimal point").all()


def test_max_reject_share_is_a_configured_limit(tmp_path):
    assert Limits().max_reject_share == 0.20
    project = tmp_path / "loanrecovery.toml"
    project.write_text("[limits]\nmax_reject_share = 0.5\n", encoding="utf-8")
    assert load_config(project).limits.max_reject_share == 0.5
    project.write_text("[limits]\nmax_reject_share = 1.5\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="max_reject_share"):
        load_config(project)
