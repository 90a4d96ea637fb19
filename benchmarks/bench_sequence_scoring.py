"""Scoring throughput (and, with ``--train``, training time) of the sequence model (issue 15).

Simulates a book (default 20,000 loans x 36 months), fits the GRU of the default size for
one epoch on 2,000 of its loans (the weights' values do not change the cost of scoring),
then times, ``--repeats`` times each:

* ``last``: every account's probabilities at its latest month, computed from its whole
  history, as a bundle scores them: the estimator is saved and loaded with skops (as in a
  bundle) and called as ``WatchlistModel`` calls it (the panel rows of the accounts being
  scored, then :meth:`SequenceClassifier.predict_proba_last`);
* ``all rows``: every loan-month (what the out-of-time evaluation runs):
  :meth:`SequenceClassifier.predict_proba_horizons`;
* one account alone, 50 times (the service's path).

Both include building the sequences from the panel. Each figure is given in wall-clock
time and in CPU time of this process (``time.process_time``, every thread): with other
jobs on the machine the wall-clock figure falls, the CPU one says what a free core gives.
With ``--train`` it also fits the default model on every labelled month of the whole
book, as a bundle fit does once per candidate, and prints the seconds and epochs. The
load average (``os.getloadavg``, as ``uptime`` shows it) is printed next to every figure:
the machine may be shared.

    .venv/bin/python benchmarks/bench_sequence_scoring.py [--loans 20000] [--months 36]
        [--threads 1] [--repeats 3] [--train]

Needs the deep extra (PyTorch).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import skops.io as sio

from loanrecovery.contract.payments import validate_panel
from loanrecovery.early_warning.sequence import SequenceClassifier
from loanrecovery.early_warning.targets import make_targets
from loanrecovery.simulate import simulate_portfolio

_HORIZONS = (3, 6, 12)


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def _targets(panel, as_of: int):  # type: ignore[no-untyped-def]
    t = make_targets(panel, _HORIZONS, as_of=as_of)
    y = t[[f"Y_{h}" for h in _HORIZONS]].copy()
    y.loc[~t["Performing"].to_numpy()] = np.nan
    return y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="PyTorch threads")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train", action="store_true", help="also time a full training fit")
    args = parser.parse_args()
    print(
        f"sequence scoring: {args.loans:,} loans x {args.months} months, seed {args.seed}, "
        f"{os.cpu_count()} CPUs, torch threads {args.threads}, load average {_load()}"
    )
    sim = simulate_portfolio(args.loans, args.months, args.seed, truth=False)
    panel = validate_panel(sim.payments, sim.loans).accepted
    n = int(panel["Loan_ID"].nunique())
    print(f"book: {n:,} accounts, {len(panel):,} loan-months")
    first = panel["Loan_ID"].unique()[:2000]
    sub = panel.loc[panel["Loan_ID"].isin(first)].reset_index(drop=True)
    seq = SequenceClassifier(horizons=_HORIZONS, max_epochs=1, n_threads=args.threads)
    seq.fit(sub, sim.loans, _targets(sub, int(sub["Month"].max())))
    blob = sio.dumps(seq)
    seq = sio.loads(blob, trusted=sio.get_untrusted_types(data=blob))
    ids = panel["Loan_ID"].unique()

    def bundle_last() -> None:
        seq.predict_proba_last(panel.loc[panel["Loan_ID"].isin(ids)], sim.loans)

    for name, run in (
        ("last", bundle_last),
        ("all rows", lambda: seq.predict_proba_horizons(panel, sim.loans)),
    ):
        seconds, cpu = [], []
        for _ in range(args.repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            run()
            seconds.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            print(
                f"  {name:<8} {n / seconds[-1]:>9,.0f} accounts/s wall, "
                f"{n / cpu[-1]:>9,.0f} per CPU-second  (load average {_load()})"
            )
        median, median_cpu = statistics.median(seconds), statistics.median(cpu)
        print(
            f"{name}: median {n / median:,.0f} accounts/s wall ({median:.2f} s), "
            f"{n / median_cpu:,.0f} accounts per CPU-second ({median_cpu:.2f} s), "
            f"best wall {n / min(seconds):,.0f} accounts/s"
        )
    one_id = panel["Loan_ID"].iloc[0]
    one = panel.loc[panel["Loan_ID"] == one_id].reset_index(drop=True)
    one_loan = sim.loans.loc[sim.loans["Loan_ID"] == one_id]
    seq.predict_proba_last(one, one_loan)
    start, start_cpu = time.perf_counter(), time.process_time()
    for _ in range(50):
        seq.predict_proba_last(one, one_loan)
    print(
        f"one account alone ({len(one)} months): "
        f"{(time.process_time() - start_cpu) / 50 * 1000:.1f} ms CPU, "
        f"{(time.perf_counter() - start) / 50 * 1000:.1f} ms wall  (load average {_load()})"
    )
    if args.train:
        print(f"training on every labelled month, load average {_load()}")
        full = SequenceClassifier(horizons=_HORIZONS, n_threads=args.threads)
        start, start_cpu = time.perf_counter(), time.process_time()
        full.fit(panel, sim.loans, _targets(panel, int(panel["Month"].max())))
        spent, spent_cpu = time.perf_counter() - start, time.process_time() - start_cpu
        print(
            f"train: {spent:.0f} s wall ({spent / 60:.1f} min), {spent_cpu:.0f} CPU-seconds, "
            f"{len(full.history_)} epochs (best {full.best_epoch_}), load average {_load()}"
        )


if __name__ == "__main__":
    main()
