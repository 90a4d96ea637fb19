"""The legacy rule's action probabilities can be rebuilt from the written files alone."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loanrecovery.actions import ACTIONS
from loanrecovery.simulate import SimulatedBook
from loanrecovery.simulate import _params as P


def _shortfall_ewma(payments: pd.DataFrame) -> pd.Series:
    pay = payments.sort_values(["Loan_ID", "Month"])
    short = (1 - pay["Amount_Paid"] / pay["Amount_Due"]).clip(0, 1)
    values = np.zeros(len(pay))
    previous, last_loan = 0.0, None
    for i, (loan, s) in enumerate(zip(pay["Loan_ID"], short, strict=True)):
        previous = 0.3 * s + (0.7 * previous if loan == last_loan else 0.0)
        values[i], last_loan = previous, loan
    return pd.Series(values, index=pd.MultiIndex.from_frame(pay[["Loan_ID", "Month"]]))


def test_legacy_propensity_is_a_function_of_observables(small_book: SimulatedBook) -> None:
    loans = small_book.loans.set_index("Loan_ID")
    col = small_book.collections
    ewma = _shortfall_ewma(small_book.payments)
    loan = loans.loc[col["Loan_ID"]]
    base = np.asarray(P.BASE_RATE)[loan["Loan_Type"].map(P.LOAN_TYPES.index).to_numpy()]
    priced = (loan["Interest_Rate"].to_numpy() - base) / P.RATE_SCORE_SLOPE
    afford = loan["Monthly_EMI"].to_numpy() / loan["Monthly_Income"].to_numpy()
    score = 1 / (1 + np.exp(-(priced + 4.0 * (afford - 0.25))))
    score = score + 1.5 * ewma.loc[list(zip(col["Loan_ID"], col["Month"], strict=True))].to_numpy()
    stage = np.clip(col["Days_Past_Due_At_Action"].to_numpy() // 30, 1, 3) - 1
    logits = np.asarray(P.LEGACY_BASE)[stage] + P.LEGACY_SCORE_SLOPE * (
        score[:, None] - 0.5
    ) * np.asarray(P.LEGACY_HARSHNESS)
    prob = np.exp(logits - logits.max(axis=1, keepdims=True))
    prob = prob / prob.sum(axis=1, keepdims=True)
    prob = (1 - P.LEGACY_EXPLORE) * prob + P.LEGACY_EXPLORE / len(ACTIONS)
    no_contact = np.array([a in ("SMS", "Call") for a in ACTIONS])
    opted_out = (loan["Contact_Opt_Out"] == "Yes").to_numpy()
    prob = np.where(opted_out[:, None] & no_contact, 0.0, prob)
    prob = prob / prob.sum(axis=1, keepdims=True)
    truth = np.array([small_book.truth["legacy_propensity"][i] for i in col["Action_ID"]])
    assert len(col) > 20
    np.testing.assert_allclose(prob, truth, atol=2e-3)
    taken = truth[np.arange(len(col)), col["Action"].map(ACTIONS.index).to_numpy()]
    assert (taken > 0).all()
