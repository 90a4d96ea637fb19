"""Applying a fitted bundle: one account answers as the whole book does."""

from __future__ import annotations

import numpy as np
import pytest

from loanrecovery.bundle import account_status
from loanrecovery.contract.book import validate_book


def _pick(book, mask):
    return str(book.loans.loc[mask, "Loan_ID"].iloc[0])


@pytest.mark.parametrize("kind", ["current", "delinquent", "closed"])
def test_one_account_agrees_with_the_book(fitted, sim_book, kind):
    bundle, _ = fitted
    loans = sim_book.loans
    active = loans["Loan_Status"].eq("Active")
    mask = {
        "current": active & loans["Days_Past_Due"].eq(0),
        "delinquent": active & loans["Days_Past_Due"].between(30, 89),
        "closed": loans["Loan_Status"].eq("Paid Off"),
    }[kind]
    loan_id = _pick(sim_book, mask)
    whole = bundle.apply(sim_book)
    row = int(np.flatnonzero(loans["Loan_ID"].to_numpy() == loan_id)[0])
    account = sim_book.account(loan_id)
    answer = bundle.apply_account(
        account.loans.iloc[0].to_dict(), account.payments, account.collections
    )
    assert answer.loan_id == loan_id
    assert answer.segment == whole.risk.segments[row]
    assert answer.pd_6m == pytest.approx(whole.risk.scores[row], abs=1e-9)
    assert list(answer.reasons) == [r for r in whole.risk.reasons.iloc[row] if r]
    assert answer.status == account_status(loans, whole.risk.closed)[row]
    if kind == "closed":
        assert answer.status == "Closed" and answer.recommended_action == "None"
        assert not answer.on_watchlist
    if kind == "current":
        listed = whole.watchlist.set_index("Loan_ID")
        assert answer.pd_3m == pytest.approx(listed.loc[loan_id, "P3"], abs=1e-9)
    if kind == "delinquent":
        plan = whole.plan.set_index("Loan_ID")
        assert answer.expected_gain is not None
        assert answer.recommended_action in {*bundle.config.catalogue.names, "None"}
        assert loan_id in plan.index
    assert answer.to_dict()["loan_id"] == loan_id


def test_a_book_without_target_or_history_is_applied(fitted, sim_book):
    bundle, _ = fitted
    new = validate_book(sim_book.loans.drop(columns=["Default_Next_6M"]), source="new month")
    result = bundle.apply(new)
    assert len(result.scored) == len(new.loans)
    assert result.watchlist is None and result.plan is None
    assert np.isfinite(result.risk.scores).all()
