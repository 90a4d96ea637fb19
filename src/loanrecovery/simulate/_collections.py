"""Collection actions: when they are triggered, the legacy rule that picks them, what they
cost and how they change the borrower's behaviour."""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from loanrecovery.actions import ACTIONS
from loanrecovery.simulate import _params as P
from loanrecovery.simulate._dynamics import U_ACCEPT, U_POLICY, annuity
from loanrecovery.simulate._state import ACTIVE, BoolArray, FloatArray, IntArray, LoanState

Lanes = IntArray | slice

_BASE = np.array(P.LEGACY_BASE)
_HARSH = np.array(P.LEGACY_HARSHNESS)
_FIXED = np.array([P.ACTION_FIXED_COST[a] for a in ACTIONS])
_NO_CONTACT = np.array([a in ("SMS", "Call") for a in ACTIONS])
_SETTLE_UNSEC = np.array(P.SETTLEMENT_SHARE_UNSECURED)
_SETTLE_SEC = np.array(P.SETTLEMENT_SHARE_SECURED)

A_REMINDER, A_SMS, A_CALL, A_SETTLE, A_RESTRUCTURE, A_FIELD, A_AGENCY, A_NOTICE, A_LEGAL = range(
    len(ACTIONS)
)


def triggered(st: LoanState) -> BoolArray:
    """Lanes where the legacy process acts this month.

    A loan is worked when it enters 30, 60 or 90 days past due, and every three months
    while it stays 90+ days past due.
    """
    active = st.status == ACTIVE
    enters = (st.cycles >= 1) & (st.cycles <= 3) & (st.cycles > st.cycles_prev)
    stays_90 = (st.cycles >= 3) & (st.since_action >= 3) & ~enters
    return active & (enters | stays_90)


def stage_of(cycles: IntArray) -> IntArray:
    """Stage index: 0 for 30-59, 1 for 60-89, 2 for 90+ days past due."""
    return np.clip(cycles, 1, 3) - 1


def legacy_probabilities(st: LoanState, lanes: Lanes) -> FloatArray:
    """Probability of each action under the legacy rule, shape (n_lanes, 9).

    The rule prefers harsher actions for deeper and riskier accounts, with randomness.
    It sees only columns of the output files: the delinquency stage, the risk score of
    :func:`~loanrecovery.simulate._population.observable_risk_score` (Interest_Rate,
    Loan_Type, Monthly_EMI, Monthly_Income) plus 1.5 x the shortfall EWMA of the
    payments since month 1 (s' = 0.7 s + 0.3 max(0, 1 - Amount_Paid / Amount_Due)), and
    Contact_Opt_Out (no Call or SMS).
    """
    stage = stage_of(st.cycles[lanes])
    score = st.risk_score[lanes] + 1.5 * st.short_ewma[lanes]
    logits = _BASE[stage] + P.LEGACY_SCORE_SLOPE * (score[:, None] - 0.5) * _HARSH[None, :]
    logits = logits - logits.max(axis=1, keepdims=True)
    prob = np.exp(logits)
    prob /= prob.sum(axis=1, keepdims=True)
    prob = (1.0 - P.LEGACY_EXPLORE) * prob + P.LEGACY_EXPLORE / len(ACTIONS)
    prob = np.where(st.opt_out[lanes][:, None] & _NO_CONTACT[None, :], 0.0, prob)
    return np.asarray(prob / prob.sum(axis=1, keepdims=True))


def legacy_choice(st: LoanState, lanes: Lanes, u: FloatArray) -> IntArray:
    """Draw the legacy action from :func:`legacy_probabilities` with uniforms ``u``."""
    cum = np.cumsum(legacy_probabilities(st, lanes), axis=1)
    choice = (u[:, None] > cum).sum(axis=1)
    return np.minimum(choice, len(ACTIONS) - 1).astype(np.int64)


def action_effect(st: LoanState, lanes: Lanes, action: IntArray) -> FloatArray:
    """Shift of the payment propensity eta in the months after the action.

    Reminders and SMS help forgetful early-stage payers; calls help broadly if the
    borrower has an income; field visits and agencies help deeper able payers; legal
    steps are credible when collateral covers the debt; harsh steps backfire on
    cooperative borrowers.
    """
    z, stress, jobless = st.z[lanes], st.stress[lanes], st.jobless[lanes]
    cycles, secured = st.cycles[lanes], st.secured[lanes]
    able = ~jobless & (stress < 1.5)
    forgetful = (z > 0.0) & (stress < 0.5) & ~jobless & (cycles == 1)
    cooperative = (z > 0.3) & (cycles <= 1) & ~jobless
    covered = secured & (st.collateral[lanes] >= 0.9 * st.balance[lanes])
    has_income = np.where(jobless, 0.3, 1.0)
    a = action
    return np.select(
        [
            a == A_REMINDER,
            a == A_SMS,
            a == A_CALL,
            a == A_SETTLE,
            a == A_RESTRUCTURE,
            a == A_FIELD,
            a == A_AGENCY,
            a == A_NOTICE,
        ],
        [
            0.15 + 0.9 * forgetful,
            0.10 + 0.75 * forgetful,
            (0.45 + 0.35 * (cycles <= 2)) * has_income,
            np.full(z.shape, 0.1),
            np.zeros(z.shape),
            0.45 + 0.7 * ((cycles == 2) & able) - 0.3 * cooperative,
            (0.4 + 1.0 * (cycles >= 3)) * (0.4 + 0.6 * ~jobless) - 0.5 * cooperative,
            (0.5 + 0.5 * covered) * (0.3 + 0.7 * able) - 0.6 * cooperative,
        ],
        default=0.9 * able - 0.9 * cooperative,
    )


def apply_action(st: LoanState, lanes: Lanes, action: IntArray, u_accept: FloatArray) -> FloatArray:
    """Apply ``action`` to ``lanes`` (in place) and return its cost known at action time.

    The agency commission depends on later recoveries and is added by the caller.
    """
    balance = st.balance[lanes]
    secured = st.secured[lanes]
    cycles = st.cycles[lanes]
    cost = _FIXED[action] + (action == A_LEGAL) * P.LEGAL_ACTION_BALANCE_COST * balance
    effect = action_effect(st, lanes, action)

    # settlement: accepted if the lump sum is within reach of the borrower's liquidity
    stage = stage_of(cycles)
    share = np.where(secured, _SETTLE_SEC[stage], _SETTLE_UNSEC[stage])
    amount = share * balance
    reach = np.log(np.maximum(amount, 1.0) / (st.income[lanes] * np.exp(st.liquidity[lanes])))
    # distressed borrowers (out of work or under heavy stress) take the deal; borrowers
    # who are only briefly late expect to catch up and rarely do
    distressed = st.jobless[lanes] | (st.stress[lanes] > 1.0)
    p_accept = expit(P.SETTLEMENT_REACH_SLOPE * reach + 1.2 * distressed - 2.5 * (cycles == 1))
    accept = (action == A_SETTLE) & (u_accept < p_accept)
    st.settle_amount[lanes] = np.where(accept, amount, 0.0)
    cost = cost + np.where(accept, balance - amount, 0.0)

    # restructure: arrears capitalised, term extended, lower installment
    restructure = (action == A_RESTRUCTURE) & (u_accept < P.RESTRUCTURE_ACCEPT)
    n_remaining = st.n_remaining[lanes]
    new_term = np.maximum(n_remaining, 6) + P.RESTRUCTURE_EXTENSION
    new_inst = annuity(balance, st.rate_m[lanes], new_term)
    st.installment[lanes] = np.where(restructure, new_inst, st.installment[lanes])
    st.n_remaining[lanes] = np.where(restructure, new_term, n_remaining)
    st.arrears[lanes] = np.where(restructure, 0.0, st.arrears[lanes])
    st.cycles[lanes] = np.where(restructure, 0, cycles)
    st.effect[lanes] = np.where(restructure, 0.4, effect)
    st.effect_age[lanes] = 0
    st.since_action[lanes] = 0

    # legal action on a secured loan starts the repossession clock
    timer = st.legal_timer[lanes]
    start_clock = (
        (action == A_LEGAL) & secured & (timer == 0) & (cycles >= P.ENFORCEMENT_MIN_CYCLES)
    )
    st.legal_timer[lanes] = np.where(start_clock, st.repossession_lag[lanes], timer)
    return np.asarray(cost, dtype=np.float64)


def legacy_step(st: LoanState, u: FloatArray) -> tuple[IntArray, IntArray, FloatArray]:
    """Trigger and apply legacy actions for one month.

    Returns
    -------
    lanes, actions, costs : ndarray
        The lanes acted on, the action index taken and the cost known at action time.
    """
    lanes = np.flatnonzero(triggered(st))
    action = legacy_choice(st, lanes, u[U_POLICY, lanes])
    cost = apply_action(st, lanes, action, u[U_ACCEPT, lanes])
    return lanes, action, cost
