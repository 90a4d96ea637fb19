"""Benchmark of issue 15: GBM, sequence model (GRU) and blend, out of time, several seeds.

For each seed and story, simulates a book, splits it out of time exactly as
``run_early_warning`` does (same cut-off, training rows, targets and test rows), fits the
GBM, then runs the model choice with ``model="blend"`` (which fits the GBM and the GRU at
a validation cut-off, picks the blend weight on the validation months, fits the GRU at
the real cut-off and scores every candidate on the test months). Prints AUC and recall at
the alert budget per horizon and candidate, the mean and spread over seeds, whether the
blend clears the bar of issue 15 (+0.003 AUC at both horizons on average, no seed worse
than -0.002), training times and scoring throughput (accounts per second).

Stories: ``main`` is the project's simulator; ``variant`` is
:mod:`loanrecovery.simulate._variant` (hardship spells, strategic defaults, a macro cycle).

    .venv/bin/python benchmarks/bench_sequences.py [--loans 20000] [--months 36]
        [--seeds 1 2 3 4 5] [--stories main variant] [--threads 1]

Needs the deep extra (PyTorch). The load average is printed: the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import pandas as pd

from loanrecovery.contract.payments import validate_panel
from loanrecovery.early_warning.evaluation import choose_cutoff
from loanrecovery.early_warning.features import build_features
from loanrecovery.early_warning.horizon import HorizonClassifiers
from loanrecovery.early_warning.model_choice import AUC_BAR, choose_model
from loanrecovery.early_warning.run import FEATURES, HORIZONS
from loanrecovery.early_warning.sequence import SequenceClassifier
from loanrecovery.early_warning.targets import make_targets
from loanrecovery.simulate import simulate_portfolio
from loanrecovery.simulate._variant import simulate_variant

CANDIDATES = ("gbm", "sequence", "blend")
WORST_SEED = -0.002


def _book(story: str, n_loans: int, n_months: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    if story == "variant":
        return simulate_variant(n_loans, n_months, seed)
    b = simulate_portfolio(n_loans, n_months, seed, truth=False)
    return b.loans, b.payments


def _throughput(
    panel: pd.DataFrame, loans: pd.DataFrame, gbm: HorizonClassifiers, seq: SequenceClassifier
) -> dict[str, float]:
    n = panel["Loan_ID"].nunique()
    start = time.perf_counter()
    feats = build_features(panel, loans)
    latest = feats.groupby("Loan_ID", sort=False).tail(1)
    gbm.predict_proba_horizons(latest[list(FEATURES)])
    gbm_s = time.perf_counter() - start
    start = time.perf_counter()
    seq.predict_proba_last(panel, loans)
    seq_s = time.perf_counter() - start
    return {"gbm_accounts_per_s": n / gbm_s, "sequence_accounts_per_s": n / seq_s}


def run_one(
    story: str, n_loans: int, n_months: int, seed: int, budget: float, threads: int
) -> dict:
    """Figures of one book."""
    loans, payments = _book(story, n_loans, n_months, seed)
    panel = validate_panel(payments, loans).accepted
    feats = build_features(panel, loans)
    cutoff = choose_cutoff(feats["Month"].to_numpy(), max_horizon=max(HORIZONS))
    train_t = make_targets(panel, HORIZONS, as_of=cutoff)
    full_t = make_targets(panel, HORIZONS)
    train_rows = np.flatnonzero(train_t["Performing"].to_numpy())
    test_rows = np.flatnonzero(
        full_t["Performing"].to_numpy() & (feats["Month"].to_numpy() > cutoff)
    )
    start = time.perf_counter()
    gbm = HorizonClassifiers(horizons=HORIZONS, random_state=seed)
    gbm.fit(feats.loc[train_rows, list(FEATURES)], train_t.loc[train_rows])
    gbm_s = time.perf_counter() - start
    start = time.perf_counter()
    choice = choose_model(
        "blend", panel=panel, loans=loans, feats=feats, features=FEATURES, gbm=gbm,
        cutoff=cutoff, full_t=full_t, test_rows=test_rows, score_rows=test_rows[:0],
        budget=budget, random_state=seed, sequence_params={"n_threads": threads},
    )  # fmt: skip
    choice_s = time.perf_counter() - start
    seq = SequenceClassifier(horizons=(*HORIZONS, 12), random_state=seed, n_threads=threads)
    # Throughput only: a GRU of the same size fitted for one epoch (weights do not change speed).
    seq.set_params(max_epochs=1)
    t = make_targets(panel, (*HORIZONS, 12), as_of=cutoff)
    seq.fit(panel, loans, t[[f"Y_{h}" for h in (*HORIZONS, 12)]])
    return {
        "n_rows": len(panel),
        "test": choice.test,
        "weights": choice.blend_weights,
        "seconds": {"gbm_fit": gbm_s, "model_choice": choice_s, **choice.seconds},
        "throughput": _throughput(panel, loans, gbm, seq),
    }


def _spread(values: list[float]) -> str:
    if len(values) < 2:
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f} (min {min(values):.4f})"


def _summarise(story: str, runs: dict[int, dict]) -> None:
    print(f"\n##### {story}: mean ± sd over seeds {list(runs)} #####")
    ok = True
    for h in (str(x) for x in HORIZONS):
        for name in CANDIDATES:
            aucs = [r["test"][name][h]["auc"] for r in runs.values()]
            rec = [r["test"][name][h]["recall_at_budget"] for r in runs.values()]
            print(f"  P{h} {name:<9} AUC {_spread(aucs)}   recall {_spread(rec)}")
        for name in ("sequence", "blend"):
            gain = [r["test"][name][h]["auc"] - r["test"]["gbm"][h]["auc"] for r in runs.values()]
            print(f"  P{h} {name} - gbm AUC: {_spread(gain)}")
            if name == "blend":
                ok &= statistics.mean(gain) >= AUC_BAR and min(gain) >= WORST_SEED
    verdict = "CLEARS" if ok else "does NOT clear"
    print(f"  blend {verdict} the bar (+{AUC_BAR} mean at both horizons, no seed < {WORST_SEED})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--stories", nargs="+", default=["main", "variant"])
    parser.add_argument("--budget", type=float, default=0.10)
    parser.add_argument("--threads", type=int, default=1, help="PyTorch threads")
    args = parser.parse_args()
    print(
        f"sequence benchmark: {args.loans:,} loans x {args.months} months, seeds {args.seeds}, "
        f"stories {args.stories}, {os.cpu_count()} CPUs, torch threads {args.threads}, "
        f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    for story in args.stories:
        runs: dict[int, dict] = {}
        for seed in args.seeds:
            r = run_one(story, args.loans, args.months, seed, args.budget, args.threads)
            runs[seed] = r
            print(f"\n=== {story} seed {seed}: {r['n_rows']:,} loan-months ===")
            for h in (str(x) for x in HORIZONS):
                for name in CANDIDATES:
                    m = r["test"][name][h]
                    print(
                        f"  P{h} {name:<9} AUC {m['auc']:.4f}  recall@{args.budget:.0%} "
                        f"{m['recall_at_budget']:.4f}  Brier {m['brier']:.4f}  ECE {m['ece']:.4f}"
                    )
            s = r["seconds"]
            print(f"  blend weights (sequence share) {r['weights']}")
            print("  seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in s.items()))
            tp = r["throughput"]
            print(
                f"  scoring: gbm {tp['gbm_accounts_per_s']:,.0f} accounts/s (features + predict), "
                f"sequence {tp['sequence_accounts_per_s']:,.0f} accounts/s (sequences + GRU, "
                "latest month; see bench_sequence_scoring.py)"
            )
            print(f"  load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
        _summarise(story, runs)


if __name__ == "__main__":
    main()
