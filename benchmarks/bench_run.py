"""Time `loanrecovery run` on the built-in 10,000-loan book (and optionally a real file).

Usage::

    python benchmarks/bench_run.py [--loans 10000] [--months 24] [--seed 42] [--data FILE]

Prints the seconds taken by the simulation (not part of the run) and by the run itself
(contract, features, segmentation, risk model with 5-fold out-of-fold scores, strategies,
insights, and writing the four outputs), and the peak resident memory.
"""

from __future__ import annotations

import os

# As the loanrecovery entry point does (loanrecovery/__main__.py): LightGBM's idle OpenMP
# threads wait passively. Set before LightGBM or scikit-learn loads OpenMP, which reads it once.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import resource
import tempfile
import time
from pathlib import Path

from loanrecovery.config import Config
from loanrecovery.contract.book import read_book
from loanrecovery.pipeline import run_pipeline
from loanrecovery.report.files import write_outputs
from loanrecovery.simulate import simulate_portfolio, write_book


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data", type=Path, default=None, help="a loan file instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.data is None:
            started = time.perf_counter()
            book = simulate_portfolio(args.loans, args.months, args.seed, truth=False)
            write_book(book, folder / "book")
            print(
                f"simulate {args.loans} loans x {args.months} months: "
                f"{time.perf_counter() - started:.1f} s (not part of the run)"
            )
            data = folder / "book"
        else:
            data = args.data
        started = time.perf_counter()
        result = run_pipeline(read_book(data), Config())
        write_outputs(result, folder / "out")
        seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"run on {result.validation.n_rows_in} loans: {seconds:.1f} s "
        f"(limit 60 s); ROC AUC {result.risk.metrics.get('roc_auc')}; "
        f"peak memory {peak_mb:,.0f} MB"
    )


if __name__ == "__main__":
    main()
