"""Benchmark of the portfolio simulator: run time, sizes and the marginal rates of the book.

Prints, for 10,000 loans x 24 months and 20,000 loans x 36 months (seed 42): wall and CPU
time, row counts and truth.json size; and for the first book: roll rates, default rate,
the share of sudden defaults, the legacy action mix by segment, and the true net
recovery of the legacy rule, the write-up's simple rules and cost-aware assignments.

Run: ``.venv/bin/python benchmarks/bench_simulate.py [--quick]``; with ``--replay-check``
it only checks, over 12 books, that realised recoveries match the counterfactual truth.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd

from loanrecovery.actions import ACTIONS
from loanrecovery.simulate import SimulatedBook, simulate_portfolio
from loanrecovery.simulate._engine import run_main_path
from loanrecovery.simulate._population import generate_population


def timed(n_loans: int, n_months: int) -> SimulatedBook:
    wall, cpu = time.perf_counter(), time.process_time()
    book = simulate_portfolio(n_loans, n_months, seed=42)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    size = len(json.dumps(book.truth, sort_keys=True, separators=(",", ":")))
    print(
        f"{n_loans:>6} loans x {n_months} months: wall {wall:6.1f} s, CPU {cpu:6.1f} s | "
        f"loans {len(book.loans)}, payments {len(book.payments)}, "
        f"collections {len(book.collections)}, truth.json {size / 1e6:.1f} MB"
    )
    return book


def roll_rates(payments: pd.DataFrame) -> pd.DataFrame:
    pay = payments.sort_values(["Loan_ID", "Month"])
    bucket = (pay["Days_Past_Due"] // 30).clip(upper=3)
    nxt = bucket.groupby(pay["Loan_ID"]).shift(-1)
    gap = pay.groupby("Loan_ID")["Month"].shift(-1) - pay["Month"]
    ok = nxt.notna() & (gap == 1)
    table = pd.crosstab(bucket[ok], nxt[ok].astype(int), normalize="index")
    names = {0: "current", 1: "30", 2: "60", 3: "90+"}
    return table.rename(index=names, columns=names)


def sudden_defaults(n_loans: int, n_months: int, seed: int) -> tuple[int, float, float, float]:
    """First entries to 90+ DPD (with 8 months of history): share with an observable
    warning (short payment or arrears) 3-6 months before, and share that followed a job loss."""
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)]
    pop = generate_population(streams[0], n_loans, n_months)
    path = run_main_path(pop, n_months, streams[1])
    active, cycles = path.active[:, :n_months], path.cycles[:, :n_months]
    short = active & (path.paid[:, :n_months] < path.due[:, :n_months] - 0.01)
    warned, job, straight = [], [], []
    for i in np.flatnonzero((active & (cycles >= 3)).any(axis=1)):
        t = int(np.flatnonzero(active[i] & (cycles[i] >= 3))[0])
        if t < 8 or not (cycles[i, :t] == 0).any():
            continue
        window = slice(t - 6, t - 2)
        warned.append(bool(short[i, window].any() or (cycles[i, window] > 0).any()))
        job.append(bool(path.jobless[i, t - 3 : t + 1].any()))
        last_current = int(np.flatnonzero(cycles[i, :t] == 0)[-1])
        straight.append(t - last_current == 3)
    w, j = np.array(warned), np.array(job)
    return len(w), 1 - w.mean(), j.mean(), float(np.mean(straight))


def policy_values(book: SimulatedBook) -> tuple[dict[str, float], str]:
    """True expected net recovery (recovery - cost) of whole-history policies."""
    col = book.collections
    po = book.truth["potential_outcomes"]
    hist, risk_map = po["history"], po["risk_6m"]["history"]
    ids = col["Action_ID"].to_numpy()
    net = np.array([[hist[i][a][0] - hist[i][a][1] for a in ACTIONS] for i in ids])
    risk = np.array([risk_map[i] for i in ids])
    rows = np.arange(len(ids))
    legacy = col["Action"].map(ACTIONS.index).to_numpy()
    simple = np.select(
        [risk > 0.75, risk > 0.5, risk > 0.25],
        [
            ACTIONS.index("Legal Action"),
            ACTIONS.index("Restructured Plan"),
            ACTIONS.index("Settlement Offer"),
        ],
        default=ACTIONS.index("Automated Reminder"),
    )
    seg = col["Segment"].to_numpy()
    per_segment = np.zeros(len(ids), dtype=int)
    for s in np.unique(seg):
        per_segment[seg == s] = net[seg == s].sum(axis=0).argmax()
    out = {
        "legacy rule (as taken)": net[rows, legacy].sum(),
        "simple rules (risk>0.75 legal, >0.5 restructure, >0.25 settle, else reminder)": net[
            rows, simple
        ].sum(),
        "best single action per segment (DPD bucket x secured)": net[rows, per_segment].sum(),
        "oracle per action (upper bound)": net.max(axis=1).sum(),
    }
    for j, a in enumerate(ACTIONS):
        out[f"always {a}"] = net[:, j].sum()
    best = pd.Series(np.asarray(ACTIONS)[net.argmax(axis=1)]).value_counts(normalize=True)
    return out, ", ".join(f"{a} {share:.3f}" for a, share in best.items())


def replay_check(n_books: int = 12) -> None:
    """Realised vs expected recovery under the actions taken, pooled over several books:
    checks that the counterfactual replays reproduce the main path without bias."""
    from loanrecovery.simulate._tables import recovered_amounts
    from loanrecovery.simulate._truth import potential_outcomes

    ratios, realised, expected = [], 0.0, 0.0
    for s in range(n_books):
        seeds = np.random.SeedSequence(300 + s).spawn(5)
        pop = generate_population(np.random.default_rng(seeds[0]), 3000, 24)
        path = run_main_path(pop, 24, np.random.default_rng(seeds[1]))
        ev = path.events
        po = potential_outcomes(ev.state, np.random.SeedSequence(9), 32)
        rec = recovered_amounts(path).sum()
        exp = po.recovery[np.arange(ev.loan.size), ev.action].sum()
        ratios.append(rec / exp)
        realised, expected = realised + rec, expected + exp
    r = np.array(ratios)
    print(
        f"\nReplay check over {n_books} books of 3000 x 24: realised / expected recovery "
        f"pooled {realised / expected:.4f}, mean {r.mean():.4f} +- {r.std() / np.sqrt(len(r)):.4f}"
    )


def main() -> None:
    quick = "--quick" in sys.argv
    if "--replay-check" in sys.argv:
        replay_check()
        return
    book = timed(10_000, 24)
    if not quick:
        timed(20_000, 36)
    loans = book.loans
    active = loans[loans["Loan_Status"] == "Active"]
    prob = active["Loan_ID"].map(book.truth["default_probability"])
    print("\nLoan status at the snapshot:", loans["Loan_Status"].value_counts().to_dict())
    print(
        f"Default_Next_6M among active loans: {active['Default_Next_6M'].mean():.4f} "
        f"(mean true probability {prob.mean():.4f}); among current (DPD 0) loans: "
        f"{active.loc[active['Days_Past_Due'] == 0, 'Default_Next_6M'].mean():.4f}"
    )
    print("\nMonthly roll rates (row: bucket this month, column: next month):")
    print(roll_rates(book.payments).round(3).to_string())
    n, sudden, job, straight = sudden_defaults(10_000, 24, 42)
    print(
        f"\nDefaults (first 90+ with 8 months of history): {n}; no observable warning 3-6 months "
        f"before: {sudden:.3f}; after a job loss: {job:.3f}; "
        f"straight 0-30-60-90 roll: {straight:.3f}"
    )
    print("\nLegacy action mix by segment (share of actions):")
    mix = pd.crosstab(book.collections["Segment"], book.collections["Action"], normalize="index")
    print(mix.reindex(columns=list(ACTIONS)).round(3).to_string())
    print("\nTrue expected net recovery of policies over all collection decisions (USD):")
    values, best_shares = policy_values(book)
    for name, value in values.items():
        print(f"  {value:>16,.0f}  {name}")
    print(f"Share of decisions where each action has the highest true net: {best_shares}")
    col, hist = book.collections, book.truth["potential_outcomes"]["history"]
    expected = sum(hist[i][a][0] for i, a in zip(col["Action_ID"], col["Action"], strict=True))
    print(
        f"Realised / expected 12-month recovery under the actions taken: "
        f"{col['Recovered_Amount'].sum() / expected:.4f} (one realisation; heavy-tailed)"
    )
    print("Monte-Carlo error:", book.truth["potential_outcomes"]["monte_carlo_standard_error"])
    print("\nBest action by segment (true mean net, USD):")
    for seg, effects in book.truth["action_effects"].items():
        best = max(effects, key=lambda a: effects[a]["mean_net"])
        print(
            f"  {seg:<16} {best:<20} {effects[best]['mean_net']:>10,.0f}  "
            f"(reminder {effects['Automated Reminder']['mean_net']:,.0f}, "
            f"n={effects[best]['n_actions']})"
        )


if __name__ == "__main__":
    main()
