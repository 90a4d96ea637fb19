"""Ground truth by Monte-Carlo: default probabilities and counterfactual action outcomes.

Both re-run the same monthly model as the main path from a saved state. Counterfactuals
use common random numbers: the nine actions of one draw share every random draw. Work is
split in fixed chunks, each with its own seed, so results do not depend on how many
threads run them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from loanrecovery.simulate import _params as P
from loanrecovery.simulate._collections import A_AGENCY, apply_action, legacy_step
from loanrecovery.simulate._dynamics import U_ACCEPT, draw_month, payment_step
from loanrecovery.simulate._state import ACTIVE, FloatArray, IntArray, LoanState

Progress = Callable[[str, float], None]
T = TypeVar("T")

#: Draws per loan for the 6-month default probability.
DEFAULT_DRAWS = 200
#: Draws per decision for the potential outcomes (each shared by the nine actions).
OUTCOME_DRAWS = 96
#: Lanes per chunk (bounds memory; fixed so results do not depend on the thread count).
CHUNK_LANES = 50_000
#: Threads (numpy releases the GIL in its array loops).
N_THREADS = 2


def _compact(st: LoanState, lane: IntArray) -> tuple[LoanState, IntArray]:
    """Drop lanes that closed (no further payments or actions) once enough have."""
    keep = st.status == ACTIVE
    if keep.mean() > 0.8:  # copying costs more than it saves
        return st, lane
    return st.take(keep), lane[keep]


def _run_chunks(
    work: Callable[[int, np.random.Generator], T],
    n_chunks: int,
    seed: np.random.SeedSequence,
    progress: Progress | None,
    label: str,
) -> Iterator[T]:
    """Run ``work(i, rng_i)`` for every chunk on a few threads, yielding results in order."""
    rngs = [np.random.default_rng(s) for s in seed.spawn(n_chunks)]
    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        futures = [pool.submit(work, i, rngs[i]) for i in range(n_chunks)]
        for i, future in enumerate(futures):
            yield future.result()
            if progress is not None:
                progress(label, (i + 1) / n_chunks)


def default_probability(
    snapshot: LoanState,
    loans: IntArray,
    seed: np.random.SeedSequence,
    n_draws: int = DEFAULT_DRAWS,
    progress: Progress | None = None,
) -> FloatArray:
    """P(90+ days past due in any of the next DEFAULT_HORIZON months) for ``loans``.

    The forward process (borrower behaviour and the legacy collection rule) is simulated
    ``n_draws`` times from each loan's state at the end of the snapshot month.
    """
    per_chunk = max(1, CHUNK_LANES // n_draws)
    n_chunks = -(-loans.size // per_chunk)

    def work(i: int, rng: np.random.Generator) -> FloatArray:
        idx = loans[i * per_chunk : (i + 1) * per_chunk]
        st = snapshot.take(np.repeat(idx, n_draws))
        lane = np.arange(st.n_lanes)
        hit = np.zeros(st.n_lanes, dtype=bool)
        for _ in range(P.DEFAULT_HORIZON):
            u = draw_month(rng, lane.size)
            _, _, alive = payment_step(st, u)
            hit[lane] |= alive & (st.cycles >= 3)
            legacy_step(st, u)
            st, lane = _compact(st, lane)
        return hit.reshape(idx.size, n_draws).mean(axis=1)

    parts = list(_run_chunks(work, n_chunks, seed, progress, "default probabilities"))
    return np.concatenate(parts) if parts else np.zeros(0)


@dataclass(frozen=True)
class PotentialOutcomes:
    """Expected outcomes under each action, arrays of shape (n, 9) in ACTIONS order."""

    recovery: FloatArray
    cost: FloatArray
    recovery_se: FloatArray  # Monte-Carlo standard error of ``recovery``
    net_effect_se: FloatArray  # standard error of the net difference to the reminder
    default_6m: FloatArray  # P(90+ DPD within 6 months)


def potential_outcomes(
    states: LoanState,
    seed: np.random.SeedSequence,
    n_draws: int = OUTCOME_DRAWS,
    progress: Progress | None = None,
    label: str = "potential outcomes",
) -> PotentialOutcomes:
    """Counterfactual outcomes of each action taken now, the legacy rule afterwards.

    Recovery is everything paid in the RECOVERY_HORIZON months after the decision
    (collateral sale proceeds included); cost is the cost of the action taken now
    (settlement discount and agency commission included, later actions not).
    """
    n, k = states.n_lanes, P.N_ACTIONS
    per_chunk = max(1, CHUNK_LANES // (n_draws * k))
    n_chunks = -(-n // per_chunk)

    def work(i: int, rng: np.random.Generator) -> tuple[FloatArray, ...]:
        start, stop = i * per_chunk, min(n, (i + 1) * per_chunk)
        c = stop - start
        m = c * n_draws
        st = states.take(np.tile(np.repeat(np.arange(start, stop), n_draws), k))
        forced = np.repeat(np.arange(k), m)
        u0 = draw_month(rng, m)
        fixed = apply_action(st, slice(None), forced, np.tile(u0[U_ACCEPT], k))
        total = np.zeros(st.n_lanes)
        hit = np.zeros(st.n_lanes, dtype=bool)
        lane = np.arange(st.n_lanes)
        for month in range(P.RECOVERY_HORIZON):
            u = draw_month(rng, m)[:, lane % m]  # common random numbers across actions
            _, paid, alive = payment_step(st, u)
            total[lane] += paid
            if month < P.DEFAULT_HORIZON:
                hit[lane] |= alive & (st.cycles >= 3)
            legacy_step(st, u)
            st, lane = _compact(st, lane)
        cost = fixed + (forced == A_AGENCY) * P.AGENCY_COMMISSION * total
        shape = (k, c, n_draws)
        rec, net = total.reshape(shape), (total - cost).reshape(shape)
        diff = net - net[0:1]
        sqrt_n = np.sqrt(n_draws)
        return (
            rec.mean(axis=2).T,
            cost.reshape(shape).mean(axis=2).T,
            (rec.std(axis=2) / sqrt_n).T,
            (diff.std(axis=2) / sqrt_n).T,
            hit.reshape(shape).mean(axis=2).T,
        )

    parts = list(_run_chunks(work, n_chunks, seed, progress, label))
    if not parts:
        empty = np.zeros((0, k))
        return PotentialOutcomes(empty, empty, empty, empty, empty)
    cols = [np.concatenate([p[j] for p in parts]) for j in range(5)]
    return PotentialOutcomes(*cols)
