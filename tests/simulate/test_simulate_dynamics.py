"""Amortisation, balances, arrears and days past due."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loanrecovery.simulate import SimulatedBook
from loanrecovery.simulate import _params as P
from loanrecovery.simulate._dynamics import (
    N_DRAWS,
    U_JOB,
    U_PAY,
    U_PREPAY,
    U_STRESS,
    annuity,
    cycles_from_arrears,
    payment_step,
)
from loanrecovery.simulate._population import generate_population
from loanrecovery.simulate._state import ACTIVE, CHARGED_OFF, PAID_OFF


def test_emi_formula_matches_closed_form() -> None:
    principal, annual, n = 100_000.0, 12.0, 12
    r = annual / 1200
    expected = principal * r * (1 + r) ** n / ((1 + r) ** n - 1)
    got = annuity(np.array([principal]), np.array([r]), np.array([n]))[0]
    assert abs(got - expected) < 1e-8
    assert abs(annuity(np.array([1200.0]), np.array([0.0]), np.array([12]))[0] - 100.0) < 1e-12


def test_full_payer_follows_the_schedule() -> None:
    pop = generate_population(np.random.default_rng(0), 50, 12)
    st = pop.state.take(np.arange(50))
    st.status[:] = ACTIVE
    emi, rate, balance = st.installment.copy(), st.rate_m.copy(), st.balance.copy()
    n_left = st.n_remaining.copy()
    u = np.full((N_DRAWS, 50), 0.5)
    u[U_STRESS] = 0.0  # no stress shock (normal draw)
    u[U_PAY] = -50.0  # logistic draw far below: always the top category, everything due is paid
    u[U_PREPAY] = 1.0  # never prepay
    u[U_JOB] = 1.0  # never lose the job
    for month in range(1, 13):
        due, paid, alive = payment_step(st, u)
        expected = balance * (1 + rate) ** month - emi * ((1 + rate) ** month - 1) / rate
        running = alive & (n_left > month)
        np.testing.assert_allclose(paid[running], emi[running], rtol=1e-9)
        np.testing.assert_allclose(st.balance[running], expected[running], rtol=1e-7, atol=1e-6)
        assert (st.cycles[running] == 0).all()
    finished = n_left <= 12
    assert (st.status[finished] == PAID_OFF).all()


def test_cycles_are_installments_in_arrears() -> None:
    inst = np.full(6, 100.0)
    arrears = np.array([0.0, 4.0, 6.0, 104.0, 106.0, 250.0])
    assert cycles_from_arrears(arrears, inst).tolist() == [0, 0, 1, 1, 2, 3]


def _unrestructured(book: SimulatedBook) -> pd.DataFrame:
    restructured = book.collections.loc[
        book.collections["Action"] == "Restructured Plan", "Loan_ID"
    ]
    pay = book.payments[~book.payments["Loan_ID"].isin(restructured)]
    emi = book.loans.set_index("Loan_ID")["Monthly_EMI"]
    return pay.assign(EMI=pay["Loan_ID"].map(emi))


def test_days_past_due_follow_arrears(medium_book: SimulatedBook) -> None:
    pay = _unrestructured(medium_book)
    status = medium_book.loans.set_index("Loan_ID")["Loan_Status"]
    last = medium_book.loans.set_index("Loan_ID")["Last_Month"]
    closing = (pay["Month"] == pay["Loan_ID"].map(last)) & (pay["Loan_ID"].map(status) != "Active")
    loans = medium_book.loans.set_index("Loan_ID")
    maturity = pay["Loan_ID"].map(loans["Origination_Month"] + loans["Loan_Tenure"] - 1)
    rows = pay[~closing & (pay["Month"] <= maturity)]
    arrears = (rows["Amount_Due"] - rows["Amount_Paid"]).clip(lower=0)
    cycles = np.maximum(np.ceil(arrears / rows["EMI"] - P.ARREARS_TOLERANCE - 1e-6), 0)
    mismatch = (rows["Days_Past_Due"] != 30 * cycles).mean()
    assert mismatch < 0.002
    assert set(np.unique(medium_book.payments["Days_Past_Due"] % 30)) == {0}


def test_next_amount_due_is_arrears_plus_installment(medium_book: SimulatedBook) -> None:
    pay = _unrestructured(medium_book).sort_values(["Loan_ID", "Month"])
    loans = medium_book.loans.set_index("Loan_ID")
    maturity = pay["Loan_ID"].map(loans["Origination_Month"] + loans["Loan_Tenure"] - 1)
    nxt = pay.groupby("Loan_ID").shift(-1)
    ok = nxt["Month"].notna() & (pay["Amount_Paid"] < pay["Amount_Due"] - 0.01)
    ok &= nxt["Month"] <= maturity  # past maturity the whole balance is due
    arrears = (pay["Amount_Due"] - pay["Amount_Paid"])[ok]
    expected = np.minimum(arrears + pay.loc[ok, "EMI"], nxt.loc[ok, "Amount_Due"] + 1.0)
    assert ok.sum() > 50
    close = np.isclose(nxt.loc[ok, "Amount_Due"], expected, atol=0.05)
    settlement = nxt.loc[ok, "Amount_Due"] > arrears + pay.loc[ok, "EMI"] + 0.05
    assert (close | settlement).mean() > 0.995


def test_balance_decreases_by_principal_paid(small_book: SimulatedBook) -> None:
    loans = small_book.loans.set_index("Loan_ID")
    pay = small_book.payments.sort_values(["Loan_ID", "Month"])
    prev = pay.groupby("Loan_ID")["Outstanding_Balance"].shift(1)
    rate = pay["Loan_ID"].map(loans["Interest_Rate"]) / 1200
    ok = prev.notna() & (pay["Outstanding_Balance"] > 0)
    expected = prev[ok] * (1 + rate[ok]) - pay.loc[ok, "Amount_Paid"]
    close = np.isclose(pay.loc[ok, "Outstanding_Balance"], expected, atol=0.05, rtol=1e-6)
    assert close.mean() > 0.995  # the rest are repossession months (sale proceeds)


def test_past_maturity_days_past_due_keep_rising_to_charge_off() -> None:
    pop = generate_population(np.random.default_rng(1), 20, 12)
    st = pop.state.take(np.arange(20))
    st.status[:] = ACTIVE
    st.n_remaining[:] = 0
    st.balance[:] = 0.5 * st.installment  # less than one installment left, all overdue
    st.arrears[:] = st.balance
    st.cycles[:] = 1
    u = np.full((N_DRAWS, 20), 0.5)
    u[U_STRESS] = 0.0
    u[U_PAY] = 50.0  # logistic draw far above: pays nothing
    u[U_PREPAY] = 1.0
    seen = []
    for _ in range(P.CHARGE_OFF_CYCLES - 1):
        _, paid, alive = payment_step(st, u)
        assert (paid[alive] == 0).all()
        seen.append(st.cycles.copy())
    assert (np.diff(np.array(seen), axis=0) == 1).all()
    assert (st.status == CHARGED_OFF).all()
