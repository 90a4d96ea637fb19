"""A second, independent simulator story for benchmarks (issue 15): spells, strategy, a cycle.

The project's simulator (``docs/simulator.md``) drives payments from a hidden, slowly
moving financial-stress score plus job loss. This variant shares none of that code and
tells a different story, so that a model that only learned the main simulator's mechanism
is caught out:

* **Macro cycle.** A sine wave of period :data:`CYCLE_MONTHS` (seeded phase) multiplies
  every borrower's hazard of entering hardship by up to ``exp(±CYCLE_STRENGTH)``.
* **Hardship spells of their own length.** On entry a borrower draws a spell length
  (1 + Poisson, longer for the self-employed and business owners) and a fixed share of the
  instalment they can pay during it; when the spell ends they pay the instalment plus a
  catch-up of the arrears. Defaults come from spells long and deep enough to reach 90 days.
* **Sudden strategic defaults.** With a hazard that rises with negative equity (balance
  above collateral) and in the cycle's downturn, a borrower stops paying for good, with no
  warning in the months before.
* **Forgotten payments.** A 2% chance per month of paying nothing, made good next month.

Payments, arrears and days past due follow the same accounting as the loan contract:
``Days_Past_Due = 30 * ceil(arrears / instalment)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["CYCLE_MONTHS", "CYCLE_STRENGTH", "simulate_variant"]

#: Period of the macro cycle, in months.
CYCLE_MONTHS = 18
#: Log-hazard amplitude of the cycle.
CYCLE_STRENGTH = 0.8
_EMPLOYMENT = np.array(["Salaried", "Self-Employed", "Business Owner", "Unemployed"])
_LOAN_TYPES = np.array(["Personal", "Home", "Auto", "Business", "Education"])
_PANEL = ["Loan_ID", "Month", "Amount_Due", "Amount_Paid", "Days_Past_Due", "Outstanding_Balance"]


def _loans(n: int, n_months: int, rng: np.random.Generator) -> pd.DataFrame:
    amount = rng.lognormal(9.8, 0.6, n).round(2)
    tenure = rng.choice([24, 36, 48, 60, 84], n)
    rate = rng.uniform(5, 22, n).round(2)
    r = rate / 1200
    emi = (amount * r / (1 - (1 + r) ** -tenure)).round(2)
    income = np.maximum(emi * rng.uniform(2.5, 9.0, n), 800).round(2)
    loan_type = rng.choice(_LOAN_TYPES, n, p=[0.35, 0.2, 0.25, 0.1, 0.1])
    secured = np.isin(loan_type, ["Home", "Auto"])
    collateral = np.where(secured, amount * rng.uniform(0.7, 1.4, n), 0.0).round(2)
    return pd.DataFrame(
        {
            "Borrower_ID": [f"VB{i:06d}" for i in range(n)],
            "Age": rng.integers(21, 70, n),
            "Gender": rng.choice(["Male", "Female"], n),
            "Employment_Type": rng.choice(_EMPLOYMENT, n, p=[0.6, 0.2, 0.15, 0.05]),
            "Monthly_Income": income,
            "Num_Dependents": rng.integers(0, 5, n),
            "Loan_ID": [f"VL{i:06d}" for i in range(n)],
            "Loan_Amount": amount,
            "Loan_Tenure": tenure,
            "Interest_Rate": rate,
            "Loan_Type": loan_type,
            "Collateral_Value": collateral,
            "Monthly_EMI": emi,
            "Origination_Month": rng.integers(-24, n_months - 6, n),
        }
    )


def simulate_variant(n_loans: int, n_months: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Loans and a monthly payment panel (months ``1..n_months``) of the variant story.

    Parameters
    ----------
    n_loans, n_months : int
        Size of the book.
    seed : int
        Seed; the same seed gives the same book.

    Returns
    -------
    loans, payments : DataFrame
        In the layouts of ``loans.csv`` and ``payments.csv``.
    """
    rng = np.random.default_rng(seed)
    loans = _loans(n_loans, n_months, rng)
    emi = loans["Monthly_EMI"].to_numpy()
    orig = loans["Origination_Month"].to_numpy()
    tenure = loans["Loan_Tenure"].to_numpy()
    r = loans["Interest_Rate"].to_numpy() / 1200
    collateral = loans["Collateral_Value"].to_numpy()
    self_emp = loans["Employment_Type"].isin(["Self-Employed", "Business Owner"]).to_numpy()
    stretch = (emi / loans["Monthly_Income"].to_numpy()).clip(0, 1)
    frailty = rng.gamma(2.0, 0.5, n_loans) * (0.5 + 2.0 * stretch)
    phase = rng.uniform(0, 2 * np.pi)
    balance = loans["Loan_Amount"].to_numpy().astype(float)
    # Loans originated before month 1 start with their scheduled balance.
    k0 = np.clip(1 - orig, 0, None)
    growth = (1 + r) ** k0
    balance = np.maximum(balance * growth - emi * (growth - 1) / r, 0.0)
    arrears = np.zeros(n_loans)
    spell_left = np.zeros(n_loans, dtype=int)
    spell_share = np.ones(n_loans)
    strategic = np.zeros(n_loans, dtype=bool)
    forgot = np.zeros(n_loans, dtype=bool)
    defaulted = np.zeros(n_loans, dtype=bool)
    parts = []
    for month in range(1, n_months + 1):
        active = (orig <= month) & (month - orig < tenure) & (balance > 1) & ~defaulted
        cycle = np.sin(2 * np.pi * month / CYCLE_MONTHS + phase)
        enter = (
            active
            & (spell_left == 0)
            & ~strategic
            & (rng.random(n_loans) < 0.01 * frailty * np.exp(CYCLE_STRENGTH * cycle))
        )
        length = 1 + rng.poisson(np.where(self_emp, 4.0, 2.0), n_loans)
        spell_left = np.where(enter, length, spell_left)
        spell_share = np.where(enter, rng.uniform(0.0, 0.6, n_loans), spell_share)
        equity_gap = np.where(collateral > 0, balance / np.maximum(collateral, 1) - 1, 0.0)
        walk = 0.0008 * (1 + 20 * np.clip(equity_gap, 0, 1)) * np.exp(-cycle)
        strategic |= active & (rng.random(n_loans) < walk)
        due = emi + arrears
        in_spell = spell_left > 0
        catch_up = np.minimum(arrears, 0.5 * emi)
        paid = np.where(in_spell, spell_share * emi, emi + catch_up)
        paid = np.where(forgot, emi + np.minimum(arrears, emi), paid)
        forgot = active & ~in_spell & (rng.random(n_loans) < 0.02)
        paid = np.where(forgot | strategic, 0.0, paid)
        paid = np.minimum(paid, due).round(2)
        arrears = np.maximum(due - paid, 0.0)
        arrears = np.where(arrears < 0.5, 0.0, arrears)
        dpd = np.where(arrears > 0, 30 * np.ceil(arrears / emi - 1e-9), 0).astype(int)
        balance = np.maximum(balance * (1 + r) - paid, 0.0)
        idx = np.flatnonzero(active)
        parts.append(
            pd.DataFrame(
                {
                    "Loan_ID": loans["Loan_ID"].to_numpy()[idx],
                    "Month": month,
                    "Amount_Due": due[idx].round(2),
                    "Amount_Paid": paid[idx],
                    "Days_Past_Due": dpd[idx],
                    "Outstanding_Balance": balance[idx].round(2),
                }
            )
        )
        # A loan leaves the book (charged off) once it reaches 180 days past due.
        defaulted |= active & (dpd >= 180)
        spell_left = np.where(active & in_spell, spell_left - 1, spell_left)
    payments = pd.concat(parts, ignore_index=True)[_PANEL]
    payments = payments.sort_values(["Loan_ID", "Month"], kind="stable").reset_index(drop=True)
    return loans, payments
