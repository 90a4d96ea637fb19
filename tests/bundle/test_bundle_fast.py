"""The one-account path (``Bundle.apply_one``) gives the data-frame path's answers, from two
threads at once, and without a C compiler."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading

import numpy as np
import pytest

from loanrecovery.bundle import bundle_bytes, load_bundle
from loanrecovery.bundle.account import account_result
from loanrecovery.modeling import flat_trees


def _accounts(book, n_delinquent: int = 60, n_other: int = 60) -> list:
    """Delinquent accounts (the effect models run), then others of every status."""
    dpd = book.loans["Days_Past_Due"].to_numpy(dtype=float)
    ids = book.loans["Loan_ID"].to_numpy()
    chosen = [*ids[dpd >= 30][:n_delinquent], *ids[dpd < 30][:n_other]]
    return [book.account(str(loan_id)) for loan_id in chosen]


def _reference(bundle, account):
    return account_result(
        account, bundle.risk, bundle.config, watchlist=bundle.watchlist, effects=bundle.effects
    )


@pytest.fixture(scope="module")
def accounts(sim_book):
    return _accounts(sim_book)


@pytest.fixture(scope="module")
def expected(fitted, accounts):
    return [_reference(fitted[0], a) for a in accounts]


def test_one_account_path_gives_the_data_frame_path_answers(fitted, accounts, expected):
    bundle = fitted[0]
    assert bundle.prepare()._applier.native
    results = [bundle.apply_one(a) for a in accounts]
    assert results == expected
    # the sample covers what matters: effect models, watchlist, closed loans, reasons
    assert any(r.expected_gain for r in results)
    assert any(r.pd_3m is not None for r in results)
    assert {"Closed", "Current", "Delinquent"} <= {r.status for r in results}
    assert all(r.reasons for r in results if r.status == "Current")


def test_two_threads_apply_one_bundle_at_once(fitted, accounts, expected):
    bundle = load_bundle(bundle_bytes(fitted[0]))
    before = hashlib.sha256(bundle_bytes(bundle)).hexdigest()
    results: dict[int, list] = {}
    start = threading.Barrier(2)

    def work(k: int) -> None:
        start.wait()  # both threads prepare and apply together
        results[k] = [bundle.apply_one(a) for a in accounts]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results[0] == expected and results[1] == expected
    assert hashlib.sha256(bundle_bytes(bundle)).hexdigest() == before


def test_without_a_compiler_the_answers_are_the_same_and_it_is_said_once(
    fitted, accounts, monkeypatch, caplog
):
    monkeypatch.setenv("LOANRECOVERY_NO_COMPILE", "1")
    monkeypatch.setattr(flat_trees, "_STATE", {})
    with caplog.at_level(logging.WARNING, logger=flat_trees.__name__):
        bundles = [load_bundle(bundle_bytes(fitted[0])).prepare() for _ in range(2)]
    said = [r for r in caplog.records if "no C compiler" in r.getMessage()]
    assert len(said) == 1
    assert not bundles[0]._applier.native
    some = accounts[:5] + accounts[-5:]
    assert [bundles[1].apply_one(a) for a in some] == [_reference(bundles[1], a) for a in some]


def test_apply_one_refuses_a_book_of_two_loans(fitted, sim_book):
    one = sim_book.account(str(sim_book.loans["Loan_ID"].iloc[0]))
    two = dataclasses.replace(one, loans=one.loans.loc[np.repeat(one.loans.index, 2)])
    with pytest.raises(ValueError, match="one accepted loan"):
        fitted[0].apply_one(two)
