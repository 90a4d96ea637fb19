"""The main path: every loan month by month from the burn-in to 12 months past the snapshot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from loanrecovery.simulate import _params as P
from loanrecovery.simulate._collections import (
    apply_action,
    legacy_choice,
    legacy_probabilities,
    triggered,
)
from loanrecovery.simulate._dynamics import U_ACCEPT, U_POLICY, U_PREPAY, draw_month, payment_step
from loanrecovery.simulate._population import Population
from loanrecovery.simulate._state import ACTIVE, PENDING, FloatArray, IntArray, LoanState

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class Events:
    """Collection actions taken in months 1..M (one entry per action)."""

    loan: IntArray
    month: IntArray
    action: IntArray
    cost_at_action: FloatArray
    cycles: IntArray
    balance: FloatArray
    arrears: FloatArray
    episode: IntArray
    propensity: FloatArray  # legacy probabilities of the nine actions, shape (n, 9)
    state: LoanState  # the loan's state just before the action


@dataclass(frozen=True)
class MainPath:
    """Month-by-month records of months 1..M+12 (column c is month c+1)."""

    due: FloatArray
    paid: FloatArray
    installment: FloatArray
    cycles: IntArray
    balance: FloatArray
    active: np.ndarray
    jobless: np.ndarray  # hidden: out of work that month
    stress: np.ndarray  # hidden: financial stress that month
    events: Events
    snapshot_pre_action: LoanState
    snapshot: LoanState


def _concat_states(states: list[LoanState], template: LoanState) -> LoanState:
    if not states:
        return template.take(np.zeros(0, dtype=np.int64))
    names = list(vars(template))
    return LoanState(**{k: np.concatenate([getattr(s, k) for s in states]) for k in names})


def run_main_path(
    pop: Population, n_months: int, rng: np.random.Generator, progress: Progress | None = None
) -> MainPath:
    """Simulate every loan from month 1 - BURN_IN to n_months + RECOVERY_HORIZON."""
    st = pop.state.take(slice(None))
    n = st.n_lanes
    n_cols = n_months + P.RECOVERY_HORIZON
    rec = {
        "due": np.zeros((n, n_cols)),
        "paid": np.zeros((n, n_cols)),
        "installment": np.zeros((n, n_cols)),
        "balance": np.zeros((n, n_cols)),
        "cycles": np.zeros((n, n_cols), dtype=np.int64),
        "active": np.zeros((n, n_cols), dtype=bool),
        "jobless": np.zeros((n, n_cols), dtype=bool),
        "stress": np.zeros((n, n_cols)),
    }
    episode = np.zeros(n, dtype=np.int64)
    ev: dict[str, list[np.ndarray]] = {
        k: [] for k in ("loan", "month", "action", "cost", "episode", "propensity")
    }
    ev_states: list[LoanState] = []
    snapshot = st
    first = 1 - P.BURN_IN
    months = range(first, n_cols + 1)
    for m in months:
        st.status = np.where((st.status == PENDING) & (pop.start_month == m), ACTIVE, st.status)
        u = draw_month(rng, n)
        if m < 1:
            u[U_PREPAY] = 1.0  # seasoned loans in the book at month 1 did not prepay before
        if m == 1:
            st.short_ewma[:] = 0.0  # the legacy rule's inputs are all in the written files
        live = np.flatnonzero(st.status == ACTIVE)
        sub = st.take(live)
        due, paid, _ = payment_step(sub, u[:, live])
        st.put(live, sub)
        episode[live] += (sub.cycles_prev == 0) & (sub.cycles >= 1)
        if m >= 1:
            c = m - 1
            rec["due"][live, c], rec["paid"][live, c] = due, paid
            rec["installment"][live, c] = sub.installment
            rec["balance"][live, c] = sub.balance
            rec["cycles"][live, c] = sub.cycles
            rec["active"][live, c] = True
            rec["jobless"][live, c] = sub.jobless
            rec["stress"][live, c] = sub.stress
            lanes = np.flatnonzero(triggered(st))
            before = st.take(lanes)
            action = legacy_choice(st, lanes, u[U_POLICY, lanes])
            cost = apply_action(st, lanes, action, u[U_ACCEPT, lanes])
            if m <= n_months:
                ev["loan"].append(lanes)
                ev["month"].append(np.full(lanes.size, m))
                ev["action"].append(action)
                ev["cost"].append(cost)
                ev["episode"].append(episode[lanes])
                ev["propensity"].append(legacy_probabilities(before, slice(None)))
                ev_states.append(before)
        if m == n_months:
            snapshot = st.take(slice(None))  # after the month's actions
        if progress is not None:
            progress("main path", (m - first + 1) / len(months))
    pre_snapshot = _pre_action_snapshot(snapshot, ev_states, ev["loan"], ev["month"], n_months)
    states = _concat_states(ev_states, st)
    events = Events(
        loan=np.concatenate(ev["loan"]).astype(np.int64),
        month=np.concatenate(ev["month"]).astype(np.int64),
        action=np.concatenate(ev["action"]).astype(np.int64),
        cost_at_action=np.concatenate(ev["cost"]),
        cycles=states.cycles.copy(),
        balance=states.balance.copy(),
        arrears=states.arrears.copy(),
        episode=np.concatenate(ev["episode"]).astype(np.int64),
        propensity=np.concatenate(ev["propensity"]).reshape(-1, P.N_ACTIONS),
        state=states,
    )
    return MainPath(
        due=rec["due"],
        paid=rec["paid"],
        installment=rec["installment"],
        cycles=rec["cycles"],
        balance=rec["balance"],
        active=rec["active"],
        jobless=rec["jobless"],
        stress=rec["stress"],
        events=events,
        snapshot_pre_action=pre_snapshot,
        snapshot=snapshot,
    )


def _pre_action_snapshot(
    snapshot: LoanState,
    ev_states: list[LoanState],
    ev_loans: list[np.ndarray],
    ev_months: list[np.ndarray],
    n_months: int,
) -> LoanState:
    """State at the end of month M before its actions: the snapshot with the acted-on
    loans replaced by their pre-action copies."""
    pre = snapshot.take(slice(None))
    for lanes, months, before in zip(ev_loans, ev_months, ev_states, strict=True):
        if lanes.size and months[0] == n_months:
            pre.put(lanes, before)
    return pre
