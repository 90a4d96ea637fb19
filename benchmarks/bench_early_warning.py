"""Benchmark of issue 4 (early warning): speed end to end and the figures of its section 5.

For each seed, simulates a book with the project's simulator (``simulate_portfolio`` without
its Monte-Carlo truth, which early warning does not read; loans.csv and payments.csv do
not depend on it), writes it to a folder, then times the
``loanrecovery early-warning`` command end to end in a fresh process (read, validate,
features, train, evaluate, survival, watchlist) and prints the figures.

    .venv/bin/python benchmarks/bench_early_warning.py [--loans 20000] [--months 36]
        [--seeds 1 2] [--out bench_out/early_warning]

The machine's load average is printed too: on a shared machine wall-clock time depends on
what else runs; the child's CPU time does not.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from loanrecovery.simulate import simulate_portfolio, write_book


def _simulate(n_loans: int, n_months: int, seed: int, folder: Path) -> float:
    start = time.perf_counter()
    book = simulate_portfolio(n_loans, n_months, seed, truth=False)
    write_book(book, folder)
    return time.perf_counter() - start


def _run_command(folder: Path, out: Path, budget: float) -> tuple[float, float, dict]:
    json_path = out / "metrics.json"
    cmd = [
        sys.executable,
        "-m",
        "loanrecovery",
        "early-warning",
        "--data",
        str(folder),
        "--alert-budget",
        str(budget),
        "--json",
        str(json_path),
        "--out",
        str(out),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads(json_path.read_text())


def _ratio(a: float | None, b: float | None) -> float:
    return float("nan") if a is None or not b else a / b


def _report(seed: int, wall: float, cpu: float, m: dict, n_rows: int, sim_s: float) -> bool:
    h3 = m["horizons"]["3"]
    rule = _ratio(h3["recall_at_budget"], h3["baseline_rule"]["recall_at_budget"])
    static = _ratio(h3["recall_at_budget"], h3["baseline_static"]["recall_at_budget"])
    snap = _ratio(h3["recall_at_budget"], h3.get("baseline_snapshot", {}).get("recall_at_budget"))
    lead3 = m["lead_time"]["share_flagged_3m_before"]
    print(f"\n=== seed {seed}: {n_rows:,} loan-months (simulated in {sim_s:.1f} s) ===")
    print(f"end to end: {wall:.1f} s wall, {cpu:.1f} s CPU (command's own timer {m['seconds']} s)")
    for h, e in m["horizons"].items():
        for name in ("model", *[k for k in e if k.startswith("baseline")]):
            r = e if name == "model" else e[name]
            print(
                f"  P{h} {name:<18} auc {r['auc']:.3f}  recall@{m['alert_budget']:.0%} "
                f"{r['recall_at_budget']:.3f}  precision {r['precision_at_budget']:.3f}"
            )
    print(
        f"  lead time: flagged >=3 months ahead {lead3:.3f}, >=6 months ahead "
        f"{m['lead_time']['share_flagged_6m_before']:.3f}; concordance {m['concordance']:.3f}"
    )
    checks = {
        "P3 recall >= 1.5x rule": rule >= 1.5,
        "P3 recall >= 1.2x static": static >= 1.2,
        ">= 50% of defaults flagged 3 months ahead": lead3 is not None and lead3 >= 0.5,
        "end to end < 90 s": wall < 90,
    }
    print(f"  recall ratios: {rule:.2f}x rule, {static:.2f}x static, {snap:.2f}x snapshot")
    for name, ok in checks.items():
        print(f"  [{'pass' if ok else 'FAIL'}] {name}")
    return all(checks.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--budget", type=float, default=0.10)
    parser.add_argument("--out", type=Path, default=Path("bench_out/early_warning"))
    args = parser.parse_args()
    print(
        f"early-warning benchmark: {args.loans:,} loans x {args.months} months, "
        f"seeds {args.seeds}, {os.cpu_count()} CPUs, load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    all_ok = True
    for seed in args.seeds:
        folder = args.out / f"book_{seed}"
        sim_s = _simulate(args.loans, args.months, seed, folder)
        n_rows = sum(1 for _ in (folder / "payments.csv").open()) - 1
        wall, cpu, metrics = _run_command(folder, args.out / f"result_{seed}", args.budget)
        all_ok &= _report(seed, wall, cpu, metrics, n_rows, sim_s)
    print(f"\nload average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("all section-5 targets met" if all_ok else "some section-5 targets NOT met (see above)")


if __name__ == "__main__":
    main()
