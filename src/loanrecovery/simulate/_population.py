"""Borrowers and their loans at origination, and the state each loan starts the run in."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from loanrecovery.simulate import _params as P
from loanrecovery.simulate._dynamics import annuity, cycles_from_arrears
from loanrecovery.simulate._state import ACTIVE, PENDING, IntArray, LoanState

_YES_NO = np.array(["No", "Yes"])


@dataclass(frozen=True)
class Population:
    """The static loan table, the initial state and the month each loan enters the run."""

    static: pd.DataFrame
    state: LoanState
    start_month: IntArray


def _pick(rng: np.random.Generator, n: int, shares: tuple[float, ...]) -> IntArray:
    p = np.asarray(shares, dtype=np.float64)
    return rng.choice(len(p), size=n, p=p / p.sum()).astype(np.int64)


def _borrowers(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    employment = _pick(rng, n, P.EMPLOYMENT_SHARES)
    age = np.clip(np.round(rng.normal(43, 12, n)), 21, 80).astype(np.int64)
    age = np.where(employment == 3, np.maximum(age, rng.integers(21, 80, n)), age)
    z = rng.standard_normal(n) + np.asarray(P.Z_MEAN_BY_EMPLOYMENT)[employment]
    z += 0.012 * (age - 43)
    log_income = (
        np.log(np.asarray(P.INCOME_MEDIAN)[employment])
        + np.asarray(P.INCOME_LOGSD)[employment] * rng.standard_normal(n)
        + 0.15 * z
        + 0.004 * (age - 43)
    )
    income = np.round(np.exp(log_income), 0)
    income = np.maximum(income, 400.0)
    dependents = np.clip(rng.poisson(np.where((age > 28) & (age < 60), 1.4, 0.6)), 0, 8)
    z -= 0.05 * dependents
    gender = np.where(rng.random(n) < 0.6, "Male", "Female")
    return {
        "employment": employment,
        "age": age,
        "z": z,
        "income": income,
        "dependents": dependents.astype(np.int64),
        "gender": gender,
    }


def _loan_types(rng: np.random.Generator, employment: IntArray, age: IntArray) -> IntArray:
    business_ok = (employment == 1) | (employment == 2)
    loan_type = np.where(
        business_ok,
        _pick(rng, employment.size, P.LOAN_TYPE_SHARES_SELF_EMPLOYED),
        _pick(rng, employment.size, P.LOAN_TYPE_SHARES),
    )
    loan_type = np.where((loan_type == 4) & (age > 45), 0, loan_type)
    loan_type = np.where((employment == 3) & (loan_type == 1), 0, loan_type)
    return loan_type.astype(np.int64)


def observable_risk_score(
    rate: np.ndarray, loan_type: IntArray, emi: np.ndarray, income: np.ndarray
) -> np.ndarray:
    """The lender's risk score used by the legacy collection rule, from loans.csv columns.

    score = logistic((Interest_Rate - base rate of the Loan_Type) / 1.8
                     + 4 (Monthly_EMI / Monthly_Income - 0.25))
    """
    priced_risk = (rate - np.asarray(P.BASE_RATE)[loan_type]) / P.RATE_SCORE_SLOPE
    return np.asarray(expit(priced_risk + 4.0 * (emi / income - 0.25)))


def _loans(rng: np.random.Generator, b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    n = b["z"].size
    loan_type = _loan_types(rng, b["employment"], b["age"])
    menu_size = np.array([len(m) for m in P.TENURES])[loan_type]
    width = max(len(m) for m in P.TENURES)
    menus = np.array([list(m) + [m[-1]] * (width - len(m)) for m in P.TENURES], dtype=np.int64)
    tenure = menus[loan_type, np.floor(rng.random(n) * menu_size).astype(np.int64)]
    app_score = P.SCORE_Z_LOADING * b["z"] + np.sqrt(
        1 - P.SCORE_Z_LOADING**2
    ) * rng.standard_normal(n)
    rate = np.asarray(P.BASE_RATE)[loan_type] - P.RATE_SCORE_SLOPE * app_score
    rate = np.round(np.clip(rate + P.RATE_NOISE_SD * rng.standard_normal(n), 2.5, 36.0), 2)
    rate_m = rate / 1200.0
    multiple = np.asarray(P.AMOUNT_INCOME_MULTIPLE)[loan_type]
    amount = (
        b["income"]
        * multiple
        * np.exp(np.asarray(P.AMOUNT_LOGSD)[loan_type] * rng.standard_normal(n))
    )
    emi = annuity(amount, rate_m, tenure)
    cap = P.MAX_AFFORDABILITY * b["income"] * np.exp(-0.15 * np.abs(rng.standard_normal(n)))
    amount = np.where(emi > cap, amount * cap / emi, amount)
    step = np.where(loan_type == 1, 1000.0, 100.0)
    amount = np.maximum(np.round(amount / step) * step, 500.0)
    emi = np.round(annuity(amount, rate_m, tenure), 2)

    secured = np.isin(loan_type, [1, 2, 3])
    low = np.zeros(n)
    high = np.ones(n)
    drift = np.ones(n)
    lag = np.zeros(n, dtype=np.int64)
    for name, (lo, hi) in P.LTV_RANGE.items():
        mask = loan_type == P.LOAN_TYPES.index(name)
        low[mask], high[mask] = lo, hi
        drift[mask] = 1.0 + P.COLLATERAL_DRIFT[name]
        lag[mask] = P.REPOSSESSION_LAG[name]
    ltv = low + (high - low) * rng.random(n)
    collateral0 = np.where(secured, amount / ltv, 0.0)
    risk_score = observable_risk_score(rate, loan_type, emi, b["income"])
    return {
        "loan_type": loan_type,
        "tenure": tenure,
        "rate": rate,
        "rate_m": rate_m,
        "amount": amount,
        "emi": emi,
        "secured": secured,
        "collateral0": collateral0,
        "drift": drift,
        "risk_score": risk_score,
        "repossession_lag": lag,
    }


def _origination(rng: np.random.Generator, tenure: IntArray, n_months: int) -> IntArray:
    earliest = np.maximum(2 - tenure, 1 - P.MAX_SEASONING)
    return (earliest + np.floor(rng.random(tenure.size) * (n_months - earliest + 1))).astype(
        np.int64
    )


def generate_population(rng: np.random.Generator, n_loans: int, n_months: int) -> Population:
    """Draw ``n_loans`` borrowers and loans and their state at the month they enter the run."""
    b = _borrowers(rng, n_loans)
    ln = _loans(rng, b)
    origination = _origination(rng, ln["tenure"], n_months)
    first = 1 - P.BURN_IN
    start = np.maximum(origination, first)
    paid = start - origination  # installments already paid (seasoned loans)
    growth = np.power(1.0 + ln["rate_m"], paid)
    balance = np.where(
        paid > 0,
        ln["amount"] * growth
        - ln["emi"] * (growth - 1.0) / np.where(ln["rate_m"] > 0, ln["rate_m"], 1.0),
        ln["amount"],
    )
    balance = np.maximum(balance, 0.0)
    collateral = ln["collateral0"] * np.power(ln["drift"], paid)

    employment = b["employment"]
    job_hazard = np.asarray(P.JOB_LOSS_HAZARD)[employment] * np.exp(-P.JOB_LOSS_Z * b["z"])
    affordability = ln["emi"] / b["income"]
    episode_hazard = (
        P.EPISODE_HAZARD * np.exp(-0.5 * b["z"]) * (1 + 2 * np.maximum(affordability - 0.3, 0))
    )
    stationary_sd = P.STRESS_SD / np.sqrt(1 - P.STRESS_RHO**2)
    zeros = np.zeros(n_loans)
    izeros = np.zeros(n_loans, dtype=np.int64)
    state = LoanState(
        z=b["z"],
        liquidity=0.8 * b["z"] + 0.6 * rng.standard_normal(n_loans) + 0.5,
        employment=employment,
        income=b["income"],
        rate_m=ln["rate_m"],
        secured=ln["secured"],
        collateral_drift=ln["drift"],
        episode_hazard=episode_hazard,
        job_hazard=job_hazard,
        opt_out=rng.random(n_loans) < P.CONTACT_OPT_OUT_RATE,
        risk_score=ln["risk_score"],
        repossession_lag=ln["repossession_lag"],
        balance=balance,
        arrears=zeros.copy(),
        installment=ln["emi"].astype(np.float64),
        n_remaining=(ln["tenure"] - paid).astype(np.int64),
        cycles=izeros.copy(),
        cycles_prev=izeros.copy(),
        stress=stationary_sd * rng.standard_normal(n_loans),
        in_episode=np.zeros(n_loans, dtype=bool),
        jobless=np.zeros(n_loans, dtype=bool),
        collateral=collateral,
        short_ewma=zeros.copy(),
        effect=zeros.copy(),
        effect_age=np.full(n_loans, 99, dtype=np.int64),
        legal_timer=izeros.copy(),
        settle_amount=zeros.copy(),
        since_action=np.full(n_loans, 99, dtype=np.int64),
        status=np.where(start == first, ACTIVE, PENDING).astype(np.int64),
    )
    state.cycles = cycles_from_arrears(state.arrears, state.installment)
    opt = state.opt_out
    utc = np.asarray(P.UTC_OFFSETS)[_pick(rng, n_loans, P.UTC_SHARES)]
    ids = np.arange(1, n_loans + 1).astype(str)
    static = pd.DataFrame(
        {
            "Borrower_ID": np.char.add("BRW_", ids),
            "Age": b["age"],
            "Gender": b["gender"],
            "Employment_Type": np.asarray(P.EMPLOYMENT_TYPES)[employment],
            "Monthly_Income": b["income"],
            "Num_Dependents": b["dependents"],
            "Loan_ID": np.char.add("LN_", ids),
            "Loan_Amount": ln["amount"],
            "Loan_Tenure": ln["tenure"],
            "Interest_Rate": ln["rate"],
            "Loan_Type": np.asarray(P.LOAN_TYPES)[ln["loan_type"]],
            "Monthly_EMI": ln["emi"],
            "Origination_Month": origination,
            "Contact_Opt_Out": _YES_NO[opt.astype(np.int64)],
            "UTC_Offset": utc.astype(np.int64),
        }
    )
    return Population(static=static, state=state, start_month=start.astype(np.int64))
