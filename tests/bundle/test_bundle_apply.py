"""Applying a fitted bundle: one account answers as the whole book does."""

from __future__ import annotations

import numpy as np
import pandas as pd
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
    if answer.pd_3m is None and kind != "closed":  # not listed: the risk model's PD
        assert answer.pd_6m == pytest.approx(np.round(whole.risk.scores[row], 4), abs=1e-12)
    assert list(answer.reasons) == [r for r in whole.risk.reasons.iloc[row] if r]
    assert answer.status == account_status(loans, whole.risk.closed)[row]
    if kind == "closed":
        assert answer.status == "Closed" and answer.recommended_action == "None"
        assert not answer.on_watchlist
    if kind == "current":
        listed = whole.watchlist.set_index("Loan_ID")
        assert answer.pd_3m == pytest.approx(listed.loc[loan_id, "P3"], abs=1e-9)
        assert answer.pd_6m == pytest.approx(listed.loc[loan_id, "P6"], abs=1e-9)
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


def _figure(value: object) -> float | None:
    return None if pd.isna(value) else float(value)  # type: ignore[arg-type]


def test_one_account_answers_as_the_accounts_table(fitted, sim_book):
    """``apply_one`` gives an account the probabilities (the watchlist's chained P3, P6 and
    P12 when it is listed, else the risk model's PD as PD_6M; 1 in default; none closed),
    segment, risk band and alert of its row of ``accounts.csv``, and its action where the
    book's optimized plan does not choose it (the plan shares each action's capacity among the
    book's accounts, which one account alone cannot know)."""
    bundle, _ = fitted
    whole = bundle.apply(sim_book)
    table = whole.accounts.set_index("Loan_ID")
    planned = set(whole.plan["Loan_ID"].astype(str))
    picks = [
        loan_id
        for status in ("Current", "Delinquent", "In Default", "Closed", "Charged Off")
        for loan_id in table.index[table["Status"].eq(status)][:8]
    ]
    answers = [bundle.apply_one(sim_book.account(str(loan_id))) for loan_id in picks]
    for loan_id, answer in zip(picks, answers, strict=True):
        row = table.loc[loan_id]
        for mine, theirs in (("pd_3m", "PD_3M"), ("pd_6m", "PD_6M"), ("pd_12m", "PD_12M")):
            expected = _figure(row[theirs])
            got = getattr(answer, mine)
            assert (got is None) == (expected is None), (loan_id, mine, got, expected)
            if expected is not None:
                assert got == pytest.approx(expected, abs=1e-12), (loan_id, mine)
        assert answer.segment == row["Segment"]
        assert answer.risk_band == row["Risk_Band"]
        assert answer.on_watchlist == bool(row["On_Watchlist"])
        if str(loan_id) in planned:
            assert answer.recommended_action in {*bundle.config.catalogue.names, "None"}
        else:
            assert answer.recommended_action == row["Recommended_Action"], loan_id
    # the sample holds listed accounts with a chained 12-month figure above the 6-month one,
    # accounts in default, closed ones, and accounts the plan covers
    listed = [a for a in answers if a.pd_3m is not None and a.pd_3m < 1]
    assert listed and all(a.pd_3m <= a.pd_6m <= a.pd_12m for a in listed)
    assert any(a.pd_12m > a.pd_6m for a in listed)
    assert any(a.status == "In Default" and a.pd_6m == 1.0 for a in answers)
    assert any(a.status == "Closed" and a.pd_6m is None for a in answers)
    assert any(a.expected_gain is not None for a in answers)
    assert sum(str(i) not in planned for i in picks) >= 20
