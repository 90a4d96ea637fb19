"""A book typed from trusted rows (``Book.from_trusted``: rows the contract accepted, read
back as the service stores them) gives the same tables and the same account result as
checking the same rows again (``Bundle.apply_account``)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from loanrecovery.bundle.many import MIN_ACCOUNTS
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


def test_apply_trusted_gives_apply_one_of_the_trusted_book(fitted, sim_book, loan_ids):
    """The service's path (rows straight to the one-account path, no frame) answers as the
    book built from the same rows does, field for field, for every kind of account."""
    bundle = fitted[0]
    statuses = set()
    for loan_id in loan_ids:
        row, panel, history = _stored(sim_book, loan_id)
        expected = bundle.apply_one(Book.from_trusted([row], panel or None, history or None))
        got = bundle.apply_trusted(row, panel, history)
        for name in expected.__dataclass_fields__:
            assert _same(getattr(got, name), getattr(expected, name)), (loan_id, name)
        statuses.add(got.status)
    assert {"Current", "Delinquent", "Closed"} <= statuses


def test_apply_trusted_reads_status_and_missing_values_as_the_book_does(fitted, sim_book, loan_ids):
    """A closing ``Loan_Status``, a blank one and a missing nullable integer."""
    bundle = fitted[0]
    row, panel, history = _stored(sim_book, loan_ids[0])
    for status in ("Charged Off", " Paid Off ", None, "Active"):
        changed = {**row, "Loan_Status": status, "Collection_Attempts": None}
        expected = bundle.apply_one(Book.from_trusted([changed], panel or None, history or None))
        got = bundle.apply_trusted(changed, panel, history)
        for name in expected.__dataclass_fields__:
            assert _same(getattr(got, name), getattr(expected, name)), (status, name)


def test_many_accounts_at_once_give_each_one_account_answer(fitted, sim_book, loan_ids):
    """The chunk path (risk model and policy on all rows at once) answers as the one-account
    path does for each, field for field; a few rows go one by one."""
    bundle = fitted[0]
    stored = [_stored(sim_book, loan_id) for loan_id in loan_ids]
    loans, panels, histories = (list(x) for x in zip(*stored, strict=True))
    assert len(stored) >= MIN_ACCOUNTS  # the first call takes the frame path
    for count in (len(stored), 3):  # at once, then one by one (below MIN_ACCOUNTS)
        got = bundle.apply_trusted_many(loans[:count], panels[:count], histories[:count])
        assert len(got) == count
        # the chunk's early-warning probabilities, all at once
        assert count < MIN_ACCOUNTS or any(a.pd_3m is not None for a in got)
        for (row, panel, history), answer in zip(stored[:count], got, strict=True):
            expected = bundle.apply_trusted(row, panel, history)
            for name in expected.__dataclass_fields__:
                assert _same(getattr(answer, name), getattr(expected, name)), (row, name)
    with pytest.raises(ValueError, match="one panel and one history per loan"):
        bundle.apply_trusted_many(loans[:2], panels[:1], histories[:2])


def test_collection_actions_change_no_answer_where_reads_history_says_no(fitted, sim_book):
    """The service leaves out the actions of accounts ``reads_history`` declines; for those
    accounts (and only by that rule) the answer must not depend on them."""
    bundle = fitted[0]
    loans = sim_book.loans
    with_history = set(sim_book.collections["Loan_ID"])
    ids = loans["Loan_ID"].astype(str)
    dpd = loans["Days_Past_Due"].to_numpy(dtype=float)
    declined = [
        loan_id
        for loan_id, days in zip(ids, dpd, strict=True)
        if loan_id in with_history and not bundle.reads_history(days)
    ][:20]
    assert declined, "the simulated book has accounts with actions that are not delinquent"
    for loan_id in declined:
        row, panel, history = _stored(sim_book, loan_id)
        assert history
        full, without = bundle.apply_trusted(row, panel, history), bundle.apply_trusted(row, panel)
        for name in full.__dataclass_fields__:
            assert _same(getattr(full, name), getattr(without, name)), (loan_id, name)
    read = [
        loan_id
        for loan_id, days in zip(ids, dpd, strict=True)
        if loan_id in with_history and bundle.reads_history(days)
    ]
    assert read, "and delinquent accounts whose actions are read"
