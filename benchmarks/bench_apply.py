"""Apply a fitted bundle: one account at a time (latency) and whole books (throughput).

Usage::

    python benchmarks/bench_apply.py [--bundle FILE] [--calls 10000] [--batch 200000]

Without ``--bundle`` the bundle is fitted on the built-in 10,000-loan book (``simulate
--loans 10000 --months 24 --seed 42``), as ``run`` does. One-account latency is measured
over ``--calls`` calls of :meth:`Bundle.apply_one` (and ``--raw-calls`` of
:meth:`Bundle.apply_account`, which validates the raw row first) on accounts drawn from that book
(every stage, with reasons), after :meth:`Bundle.prepare` (timed), a warm-up pass over the
accounts and ``gc.freeze()`` (as a service does once at start-up); it prints p50, p90, p99
and the worst, for all accounts and for the delinquent ones (30+ days past due: the
action-effect models run), with the load average of the machine before and after.
Batch throughput applies the risk stage (features, segments, PD, with and without reasons)
and the strategy policy to ``--batch`` loans resampled from the book. ``--chunk N`` times
:meth:`Bundle.apply_trusted_many` on N accounts drawn from the book, their rows as the
service stores them (what the service does for a chunk of payment events), against
:meth:`Bundle.apply_trusted` of each: CPU milliseconds per account (``time.process_time``),
the median of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

from loanrecovery.bundle import fit_bundle, load_bundle  # noqa: E402
from loanrecovery.contract.book import validate_book  # noqa: E402
from loanrecovery.contract.trusted import HISTORY_ROW, PANEL_ROW  # noqa: E402
from loanrecovery.inputs import builtin_book  # noqa: E402


def _load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def _latency(bundle, book, calls: int, raw_calls: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ids = book.loans["Loan_ID"].to_numpy()
    pool = rng.choice(ids, size=min(len(ids), 500), replace=False)
    books = [book.account(str(loan_id)) for loan_id in pool]
    raw = [(one.loans.iloc[0].to_dict(), one.payments, one.collections) for one in books]
    late = np.array([float(b.loans["Days_Past_Due"].iloc[0]) >= 30 for b in books])
    started = time.perf_counter()
    bundle.prepare()
    print(
        f"Bundle.prepare: {time.perf_counter() - started:.2f} s "
        f"(native trees: {bundle._account_applier().native})"
    )
    for name, call, inputs, n_calls in (
        ("validated account (Bundle.apply_one)", bundle.apply_one, [(b,) for b in books], calls),
        (
            "raw account, contract included (Bundle.apply_account)",
            bundle.apply_account,
            raw,
            raw_calls,
        ),
    ):
        if not n_calls:
            continue
        for one in inputs:  # warm-up: every code path once
            call(*one)
        gc.collect()
        gc.freeze()
        before = _load()
        seconds = np.empty(n_calls)
        for k in range(n_calls):
            started = time.perf_counter()
            call(*inputs[k % len(inputs)])
            seconds[k] = time.perf_counter() - started
        ms = seconds * 1000
        delinquent = ms[np.resize(late, n_calls)]
        print(
            f"{name}, all stages with reasons, {n_calls:,} calls over {len(inputs)} accounts: "
            f"p50 {np.percentile(ms, 50):.2f} ms, p90 {np.percentile(ms, 90):.2f} ms, "
            f"p99 {np.percentile(ms, 99):.2f} ms, worst {ms.max():.2f} ms (floor: p99 <= 10 ms); "
            f"delinquent accounts ({late.mean():.0%}): p50 {np.percentile(delinquent, 50):.2f} ms, "
            f"p99 {np.percentile(delinquent, 99):.2f} ms; {before} before, {_load()} after"
        )


def _batch(bundle, book, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(book.loans), n)
    loans = book.loans.iloc[rows].reset_index(drop=True)
    loans["Loan_ID"] = [f"B{k}" for k in range(n)]
    batch = validate_book(loans, source="resampled book")
    for reasons in (False, True):
        started = time.perf_counter()
        result = bundle.apply(batch, reasons=reasons)
        seconds = time.perf_counter() - started
        print(
            f"apply {n:,} loans ({'with' if reasons else 'without'} reasons): {seconds:.1f} s, "
            f"{n / seconds:,.0f} loans/s; {len(result.strategies):,} strategies"
        )


def _stored(book, n: int, seed: int) -> tuple[list, list, list]:
    """``n`` accounts' loan rows (through JSON), panel and history tuples, as stored."""
    rng = np.random.default_rng(seed)
    ids = rng.choice(book.loans["Loan_ID"].to_numpy(), size=n, replace=False)
    loans = book.loans.set_index("Loan_ID", drop=False).loc[ids].reset_index(drop=True)
    rows = json.loads(loans.to_json(orient="records", double_precision=15, date_format="iso"))

    def tuples(table, columns) -> dict:
        if table is None:
            return {}
        table = table[table["Loan_ID"].isin(ids)]
        return {
            k: [tuple(r) for r in g[list(columns)].itertuples(index=False)]
            for k, g in table.groupby("Loan_ID", sort=False)
        }

    panels, histories = tuples(book.payments, PANEL_ROW), tuples(book.collections, HISTORY_ROW)
    return rows, [panels.get(i, []) for i in ids], [histories.get(i, []) for i in ids]


def _chunk(bundle, book, n: int, repeats: int, seed: int) -> None:
    loans, panels, histories = _stored(book, n, seed)
    bundle.prepare()

    def many() -> list:
        return bundle.apply_trusted_many(loans, panels, histories)

    def one_by_one() -> list:
        return [bundle.apply_trusted(*a) for a in zip(loans, panels, histories, strict=True)]

    before = _load()
    figures = {}
    for name, call in (("at once", many), ("one at a time", one_by_one)):
        answers = call()  # warm-up
        runs = []
        for _ in range(repeats):
            gc.collect()
            started = time.process_time()
            call()
            runs.append((time.process_time() - started) * 1000 / n)
        figures[name] = (statistics.median(runs), min(runs), max(runs))
    late = sum(a.days_past_due >= 30 for a in answers)
    listed = sum(a.pd_3m is not None for a in answers)
    print(
        f"chunk of {n} accounts ({late} delinquent, {listed} on the watchlist), CPU ms per "
        f"account, median of {repeats} runs (min-max): "
        + "; ".join(f"{k} {m:.3f} ({lo:.3f}-{hi:.3f})" for k, (m, lo, hi) in figures.items())
        + f"; {before} before, {_load()} after"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=None)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--raw-calls", type=int, default=1_000, help="calls of apply_account")
    parser.add_argument("--batch", type=int, default=200_000)
    parser.add_argument("--chunk", type=int, default=500, help="accounts at once (0: skip)")
    parser.add_argument("--repeats", type=int, default=7, help="runs of the chunk timed")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    book = builtin_book()
    if args.bundle is None:
        started = time.perf_counter()
        bundle = fit_bundle(book)
        print(f"fit on the built-in book: {time.perf_counter() - started:.1f} s")
    else:
        started = time.perf_counter()
        bundle = load_bundle(args.bundle)
        print(f"bundle loaded in {time.perf_counter() - started:.2f} s")
    _latency(bundle, book, args.calls, args.raw_calls, args.seed)
    if args.chunk:
        _chunk(bundle, book, args.chunk, args.repeats, args.seed)
    if args.batch:
        _batch(bundle, book, args.batch, args.seed)


if __name__ == "__main__":
    main()
