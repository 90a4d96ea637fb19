"""A book typed from trusted rows (``Book.from_trusted``: rows the contract accepted, read
back as the service stores them) gives the same tables and the same account result as
checking the same rows again (``Bundle.apply_account``)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from loanrecovery.contract.book import Book, validate_book
from loanrecovery.contract.trusted import HISTORY_ROW, PANEL_ROW
from loanrecovery.service.importer import records


def _stored(book: Book, loan_id: str) -> tuple[dict, list[tuple], list[tuple]]:
    """The account's rows as the service stores them: the loan row through JSON, the panel
    and the history as plain tuples."""
    one = book.account(loan_id)
    row = records(one.loans)[0]
    panel = [tuple(r) for r in one.payments[list(PANEL_ROW)].itertuples(index=False)]
    history = [tuple(r) for r in one.collections[list(HISTORY_ROW)].itertuples(index=False)]
    return row, panel, history


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return a == b


@pytest.fixture(scope="module")
def loan_ids(sim_book: Book) -> list[str]:
    """Accounts of every kind: delinquent ones with a collection history, current ones,
    closed ones, and one with a missing nullable integer."""
    loans = sim_book.loans
    with_history = set(sim_book.collections["Loan_ID"])
    dpd = loans["Days_Past_Due"].to_numpy()
    ids = loans["Loan_ID"].astype(str)
    chosen = [*ids[(dpd >= 30) & ids.isin(with_history)][:25], *ids[dpd == 0][:25]]
    chosen += list(ids[loans["Outstanding_Loan_Amount"] <= 0][:5])
    chosen += list(ids[loans["Collection_Attempts"].isna()][:3])
    return list(dict.fromkeys(chosen))


def test_trusted_book_is_typed_as_the_contract_types_it(sim_book, loan_ids):
    for loan_id in loan_ids[:10]:
        row, panel, history = _stored(sim_book, loan_id)
        checked = validate_book(
            pd.DataFrame([row]),
            pd.DataFrame(panel, columns=list(PANEL_ROW)),
            pd.DataFrame(history, columns=list(HISTORY_ROW)) if history else None,
        )
        trusted = Book.from_trusted([row], panel, history or None)
        pd.testing.assert_frame_equal(trusted.loans, checked.loans)
        pd.testing.assert_frame_equal(trusted.payments, checked.payments)
        if history:
            pd.testing.assert_frame_equal(trusted.collections, checked.collections)
        assert trusted.as_of == checked.as_of
        assert trusted.counts()["loans"] == {"in": 1, "accepted": 1, "rejected": 0}


def test_trusted_book_gives_the_account_result_of_apply_account(fitted, sim_book, loan_ids):
    bundle = fitted[0]
    compared = 0
    for loan_id in loan_ids:
        row, panel, history = _stored(sim_book, loan_id)
        expected = bundle.apply_account(
            row,
            payments=pd.DataFrame(panel, columns=list(PANEL_ROW)) if panel else None,
            collections=pd.DataFrame(history, columns=list(HISTORY_ROW)) if history else None,
        )
        got = bundle.apply_one(Book.from_trusted([row], panel or None, history or None))
        for name in expected.__dataclass_fields__:
            assert _same(getattr(got, name), getattr(expected, name)), (loan_id, name)
        compared += 1
    assert compared == len(loan_ids) >= 40
