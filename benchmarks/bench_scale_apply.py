"""Driver memory of the book-wide steps of `apply --engine dask`.

Simulates a partitioned Parquet book of N loans, fits a bundle on a smaller book of the
same seed family, applies it on a local cluster of 2 worker processes keeping the working
files of the book-wide steps, and prints, for each step, the rows the driver gathers and
their in-memory size (``DataFrame.memory_usage(deep=True)``), the peak resident memory of
this (driver) process, and the time of the job. The whole job runs; only the removal of
the working files at the end is skipped.

    PYTHONPATH=src python benchmarks/bench_scale_apply.py --loans 20000 --partitions 4
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import pandas as pd
from distributed import Client, LocalCluster

from loanrecovery.bundle import fit_bundle, save_bundle
from loanrecovery.contract.book import read_book
from loanrecovery.scale import apply_job
from loanrecovery.scale.apply_book import _gather
from loanrecovery.scale.apply_parts import BOOK_DIR
from loanrecovery.simulate import write_parquet_book

#: What each driver step gathers (folders under ``_book/``).
STEPS = {
    "alerts and reason band": ["listed"],
    "recovery plan": ["cases", "case_features"],
    "priority rank": ["keys"],
    "contact hours": ["contacts"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loans", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--fit-loans", type=int, default=5_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        fit_book = folder / "fit"
        write_parquet_book(fit_book, args.fit_loans, args.months, seed=5, partitions=1)
        bundle = folder / "book.bundle"
        save_bundle(fit_bundle(read_book(fit_book)), bundle)
        book = folder / "book"
        write_parquet_book(book, args.loans, args.months, seed=11, partitions=args.partitions)
        apply_job._BULKY = ()  # keep the working files to measure them
        with (
            LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):
            start = time.perf_counter()
            result = apply_job.apply_partitioned(client, book, bundle, folder / "out")
            seconds = time.perf_counter() - start
        names = sorted(result.report.records)
        loans = result.counts["loans"]["accepted"]
        print(f"{loans:,} loans, {len(names)} partitions, apply --engine dask in {seconds:.1f} s")
        for step, parts in STEPS.items():
            frames = [_gather(folder / "out" / BOOK_DIR / p, names) for p in parts]
            rows = len(frames[0]) if frames[0] is not None else 0
            size = sum(
                int(f.memory_usage(deep=True).sum()) for f in frames if isinstance(f, pd.DataFrame)
            )
            print(
                f"{step:>24}: {rows:,} rows, {size / 1e6:.1f} MB "
                f"({size / max(rows, 1):,.0f} bytes per row, {rows / loans:.1%} of the loans)"
            )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of the driver process (fit and simulate included): {peak:,.0f} MB")


if __name__ == "__main__":
    main()
