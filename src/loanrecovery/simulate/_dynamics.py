"""One month of borrower behaviour: hidden stress, job loss, payment, balances and arrears.

Everything is vectorised over lanes; the only randomness comes from the uniform draws
passed in, so the same draws give the same month (common random numbers).
"""

from __future__ import annotations

import numpy as np
from scipy.special import logit, ndtri

from loanrecovery.simulate import _params as P
from loanrecovery.simulate._state import (
    ACTIVE,
    CHARGED_OFF,
    PAID_OFF,
    REPOSSESSED,
    SETTLED,
    BoolArray,
    FloatArray,
    IntArray,
    LoanState,
)

#: Number of uniform draws one lane consumes per month (payment step + action step).
N_DRAWS = 8
U_STRESS, U_EPISODE, U_JOB, U_PAY, U_FRAC, U_PREPAY, U_POLICY, U_ACCEPT = range(N_DRAWS)

_DECAY = np.array([*P.EFFECT_DECAY, 0.0])
_DEPTH = np.array(P.ETA_DEPTH)
_CUTS = np.array(P.CUTS)


def draw_month(rng: np.random.Generator, n_lanes: int) -> FloatArray:
    """Random draws for one month of ``n_lanes`` lanes, shape (N_DRAWS, n_lanes).

    Every row is uniform on (0, 1) except ``U_STRESS`` (standard normal) and ``U_PAY``
    (standard logistic), both obtained from uniforms by their inverse distribution
    function, so larger uniforms always mean larger shocks.
    """
    u = rng.random((N_DRAWS, n_lanes))
    u[U_STRESS] = ndtri(np.clip(u[U_STRESS], 1e-12, 1 - 1e-12))
    u[U_PAY] = logit(np.clip(u[U_PAY], 1e-12, 1 - 1e-12))
    return u


def cycles_from_arrears(arrears: FloatArray, installment: FloatArray) -> IntArray:
    """Installments in arrears: ceil(arrears / installment - tolerance), at least 0."""
    ratio = arrears / np.maximum(installment, 1e-9)
    return np.maximum(np.ceil(ratio - P.ARREARS_TOLERANCE), 0).astype(np.int64)


def annuity(principal: FloatArray, rate_m: FloatArray, n: IntArray | FloatArray) -> FloatArray:
    """EMI = P r (1+r)^n / ((1+r)^n - 1); P / n when r = 0."""
    n = np.maximum(np.asarray(n, dtype=np.float64), 1.0)
    r = np.asarray(rate_m, dtype=np.float64)
    growth = np.power(1.0 + r, n)
    safe_r = np.where(r > 0, r, 1.0)
    emi = np.where(r > 0, principal * safe_r * growth / np.where(r > 0, growth - 1.0, 1.0), 0.0)
    return np.where(r > 0, emi, principal / n)


def payment_propensity(st: LoanState) -> FloatArray:
    """The index eta of the ordered payment model (higher pays more)."""
    affordability = st.installment / st.income
    cover = np.where(st.secured, st.collateral / np.maximum(st.balance, 1.0), 0.0)
    strategic = (st.cycles >= 2) * np.clip(1.0 - cover, 0.0, 1.0)
    effect = st.effect * _DECAY[np.minimum(st.effect_age, len(_DECAY) - 1)]
    return (
        P.ETA_BASE
        + P.ETA_Z * st.z
        - P.ETA_STRESS * st.stress
        - P.ETA_AFF * np.maximum(affordability - P.AFF_FREE, 0.0)
        - P.ETA_JOBLESS * st.jobless
        - _DEPTH[np.minimum(st.cycles, 4)]
        - P.ETA_STRATEGIC * strategic
        + effect
    )


def _update_latent(st: LoanState, u: FloatArray) -> None:
    """Stress AR(1) with distress episodes, job loss and re-employment, collateral drift."""
    starts = ~st.in_episode & (u[U_EPISODE] < st.episode_hazard)
    ends = st.in_episode & (u[U_EPISODE] < P.EPISODE_END)
    st.in_episode = (st.in_episode & ~ends) | starts
    st.stress = (
        P.STRESS_RHO * st.stress + P.STRESS_SD * u[U_STRESS] + P.EPISODE_DRIFT * st.in_episode
    )
    lose = ~st.jobless & (u[U_JOB] < st.job_hazard)
    find = st.jobless & (u[U_JOB] < P.JOB_FIND)
    st.jobless = (st.jobless & ~find) | lose
    st.collateral = st.collateral * st.collateral_drift


def _amount_paid(st: LoanState, u: FloatArray, due: FloatArray, interest: FloatArray) -> FloatArray:
    """Draw the amount paid this month from the ordered payment model."""
    eta = payment_propensity(st)
    # ordered logit: Y >= j  <=>  eta - e > cut_j with e standard logistic
    latent = eta - u[U_PAY]
    category = np.searchsorted(_CUTS, latent).astype(np.int64)
    # clearing three or more installments at once takes a larger margin
    deep_short = (st.cycles >= 3) & (latent < _CUTS[-1] + P.DEEP_CURE_MARGIN)
    category = np.where((category == 4) & deep_short, 3, category)
    low, high = P.PARTIAL_RANGE
    inst = st.installment
    partial_share = low + (high - low) * u[U_FRAC]
    # installments paid by category 0..3: nothing, a partial share, one, two
    share = np.where(category >= 2, category - 1.0, np.where(category == 1, partial_share, 0.0))
    pay = np.where(category == 4, due, np.minimum(share * inst, due))
    prepay = (st.cycles == 0) & (category >= 2) & (u[U_PREPAY] < P.PREPAY_HAZARD)
    pay = np.where(prepay, st.balance + interest, pay)
    return np.where(st.settle_amount > 0, st.settle_amount, pay)


def payment_step(st: LoanState, u: FloatArray) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Advance every active lane of ``st`` by one month.

    Closed lanes are computed too (vectorised) but pay nothing and keep their status;
    their other fields are meaningless afterwards.

    Parameters
    ----------
    st : LoanState
        Active lanes only; updated in place (closed lanes get their closing status).
    u : ndarray of shape (N_DRAWS, n_lanes)
        Uniform draws of this month.

    Returns
    -------
    due, paid : ndarray
        Amount due (installment plus arrears, or the settlement amount) and amount paid
        (including collateral sale proceeds); zero for closed lanes.
    alive : ndarray of bool
        Lanes that were active this month.
    """
    alive = st.status == ACTIVE
    st.cycles_prev = st.cycles
    _update_latent(st, u)

    interest = st.balance * st.rate_m
    owed = st.balance + interest
    running = st.n_remaining > 0
    due = np.where(running, np.minimum(st.arrears + st.installment, owed), owed)
    settled = st.settle_amount > 0
    due = np.where(settled, st.settle_amount, due)
    pay = np.where(alive, _amount_paid(st, u, due, interest), 0.0)

    st.balance = np.where(settled, 0.0, owed - pay)
    arrears = np.where(settled, 0.0, np.maximum(due - pay, 0.0))
    st.arrears = np.minimum(arrears, np.maximum(st.balance, 0.0))
    st.n_remaining = st.n_remaining - 1
    st.cycles = _cycles_after(st, running, pay)
    st.effect_age = st.effect_age + 1
    st.since_action = st.since_action + 1
    short = np.clip(1.0 - pay / np.maximum(due, 1e-9), 0.0, 1.0)
    st.short_ewma = 0.7 * st.short_ewma + 0.3 * short

    pay = pay + _repossess(st, alive)
    _close(st, settled)
    return np.where(alive, due, 0.0), pay, alive


def _cycles_after(st: LoanState, running: BoolArray, pay: FloatArray) -> IntArray:
    """Installments in arrears; past maturity the whole balance is due, so the count goes
    on rising by one a month less one per installment's worth paid (as days past due do)."""
    cycles = cycles_from_arrears(st.arrears, st.installment)
    paid_installments = np.floor(pay / np.maximum(st.installment, 1e-9) + P.ARREARS_TOLERANCE)
    carried = np.maximum(st.cycles_prev + 1 - paid_installments, 0).astype(np.int64)
    matured = ~running & (st.arrears > P.ARREARS_TOLERANCE * st.installment)
    return np.where(matured, np.maximum(carried, cycles), cycles)


def _repossess(st: LoanState, alive: BoolArray) -> FloatArray:
    """Forced sale of the collateral when a legal action's timer runs out at 60+ DPD."""
    timer_on = alive & (st.legal_timer > 0)
    st.legal_timer = np.where(timer_on, st.legal_timer - 1, 0)
    fires = timer_on & (st.legal_timer == 0) & st.secured & (st.cycles >= P.REPOSSESSION_MIN_CYCLES)
    proceeds = np.where(fires, np.minimum(st.balance, P.REPOSSESSION_RECOVERY * st.collateral), 0.0)
    st.balance = st.balance - proceeds
    st.status = np.where(fires, REPOSSESSED, st.status)
    return proceeds


def _close(st: LoanState, settled: BoolArray) -> None:
    """Close lanes that settled, paid off or reached charge-off."""
    still = st.status == ACTIVE
    st.status = np.where(still & settled, SETTLED, st.status)
    still = still & ~settled
    paid_off = still & (st.balance <= 0.5)
    st.balance = np.where(paid_off, 0.0, st.balance)
    st.arrears = np.where(paid_off, 0.0, st.arrears)
    st.cycles = np.where(paid_off, 0, st.cycles)
    st.status = np.where(paid_off, PAID_OFF, st.status)
    charge_off = still & ~paid_off & (st.cycles >= P.CHARGE_OFF_CYCLES) & (st.legal_timer == 0)
    st.status = np.where(charge_off, CHARGED_OFF, st.status)
    st.settle_amount = np.zeros_like(st.settle_amount)
