"""Scale-out benchmark: `score --engine dask --workers 2` against single-process `score`.

Simulates a partitioned Parquet book of N loans (``simulate --format parquet``), trains a
model on a 20,000-loan book, then scores the N loans back to back: single-process (the
whole folder read at once) and on a local Dask cluster of worker processes, Parquet to
Parquet. Prints loans/s of each, their ratio, and the peak resident memory of each worker
(sampled every 0.5 s through ``client.run`` and psutil). Also times simulate's chunked
writer (time and peak RSS of this process).

    PYTHONPATH=src python benchmarks/bench_scale.py --loans 1000000 --reasons 0
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import threading
import time
from pathlib import Path

import psutil
from distributed import Client, LocalCluster

from loanrecovery.modeling.model_file import load_model, save_model
from loanrecovery.modeling.scoring import read_loans, train_scoring_model, write_scores
from loanrecovery.modeling.table import prepare_table
from loanrecovery.modeling.training import model_card
from loanrecovery.scale import score_partitioned
from loanrecovery.simulate import simulate_portfolio, write_parquet_book


def _rss() -> int:
    return psutil.Process(os.getpid()).memory_info().rss


def _train(folder: Path) -> Path:
    loans = simulate_portfolio(20_000, 24, seed=7, truth=False).loans
    prepared = prepare_table(loans, target="Default_Next_6M", id_columns=("Loan_ID",))
    model = train_scoring_model(
        prepared, input_columns=list(loans.columns), id_columns=["Loan_ID"], folds=2
    )
    path = folder / "model.lrm"
    csv = folder / "train.csv"
    loans.to_csv(csv, index=False)
    save_model(model, path, model_card(model, prepared, loans, data=csv, folds=2))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--partitions", type=int, default=None)
    parser.add_argument("--reasons", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--single", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--folder", type=Path, default=None)
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="bench_scale_"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"load average at start: {os.getloadavg()}")
    book = folder / "book"
    if not (book / "loans.parquet").is_dir():
        start = time.perf_counter()
        write_parquet_book(book, args.loans, args.months, 42, partitions=args.partitions)
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"simulate --format parquet: {args.loans:,} loans x {args.months} months in "
            f"{seconds:.0f} s, peak RSS of the process {peak:,.0f} MB"
        )
    model_path = folder / "model.lrm"
    if not model_path.is_file():
        model_path = _train(folder)
    loans = book / "loans.parquet"
    single = None
    if args.single:
        start = time.perf_counter()
        model = load_model(model_path)[0]
        frame = read_loans(loans)
        result = model.score(frame, n_reasons=args.reasons)
        write_scores(result.table, folder / "single.csv")
        single = time.perf_counter() - start
        print(
            f"single-process score: {len(frame):,} loans in {single:.1f} s "
            f"({len(frame) / single:,.0f} loans/s), peak RSS "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"
        )
        del frame, result
    with (
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        peaks: dict[str, int] = {}
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                try:
                    for address, rss in client.run(_rss).items():
                        peaks[address] = max(peaks.get(address, 0), rss)
                except Exception:  # noqa: BLE001 - a sample missed while a worker restarts
                    pass
                stop.wait(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        out = folder / "dask"
        start = time.perf_counter()
        done = score_partitioned(client, loans, model_path, out, reasons=args.reasons)
        seconds = time.perf_counter() - start
        stop.set()
        sampler.join()
    print(
        f"dask score --workers {args.workers}: {done.scored:,} loans "
        f"({len(done.report.records)} partitions, {len(done.report.resumed)} resumed) in "
        f"{seconds:.1f} s ({done.scored / seconds:,.0f} loans/s); rows in {done.rows_in:,} = "
        f"scored {done.scored:,} + rejected {done.rejected:,}"
    )
    for address, rss in sorted(peaks.items()):
        print(f"  peak RSS of worker {address}: {rss / 2**20:,.0f} MB")
    if single is not None:
        print(f"ratio dask / single-process loans/s: {single / seconds:.2f}")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
