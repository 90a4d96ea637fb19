"""The Book: three tables validated once, rows conserved, folders resolved in one place."""

from __future__ import annotations

import pandas as pd
import pytest

from loanrecovery.contract.book import find_book_files, read_book, validate_book
from loanrecovery.exceptions import DataFileError
from loanrecovery.simulate import simulate_portfolio, write_book


@pytest.fixture(scope="module")
def small():
    return simulate_portfolio(n_loans=300, n_months=12, seed=5, truth=False)


def test_rows_in_equal_rows_accepted_plus_rejected_for_every_table(small):
    loans = small.loans.copy()
    loans["Age"] = loans["Age"].astype(object)
    loans.loc[0, "Age"] = "old"
    payments = small.payments.copy().astype(object)
    payments.loc[1, "Amount_Paid"] = "n/a?"
    collections = small.collections.copy()
    collections.loc[0, "Loan_ID"] = "nobody"
    book = validate_book(loans, payments, collections, source="t")
    for name, counts in book.counts().items():
        assert counts["in"] == counts["accepted"] + counts["rejected"], name
    assert book.counts()["loans"]["rejected"] == 1
    assert book.counts()["payments"]["rejected"] >= 1
    assert book.counts()["collections"]["rejected"] >= 1
    assert book.loans["Age"].dtype.kind == "i"
    assert book.as_of == 12


def test_fingerprint_ignores_row_order(small):
    a = validate_book(small.loans, small.payments, source="a")
    shuffled = small.loans.sample(frac=1.0, random_state=1)
    b = validate_book(shuffled, small.payments, source="b")
    assert a.fingerprint() == b.fingerprint()


def test_read_book_finds_the_tables_beside_the_loan_file(small, tmp_path):
    write_book(small, tmp_path)
    files = find_book_files(tmp_path)
    assert files.loans.name == "loans.csv" and files.payments and files.collections
    assert find_book_files(tmp_path / "loans.csv") == files
    book = read_book(tmp_path)
    assert len(book.loans) == len(small.loans)
    assert book.sources["payments"].endswith("payments.csv")
    pd.testing.assert_series_equal(
        book.loans["Loan_ID"].reset_index(drop=True),
        small.loans["Loan_ID"].astype(str).reset_index(drop=True),
        check_dtype=False,
    )


def test_missing_paths_are_named(tmp_path):
    with pytest.raises(DataFileError, match="no loans.csv"):
        find_book_files(tmp_path)
    with pytest.raises(DataFileError, match="not found"):
        find_book_files(tmp_path / "nothing.csv")
