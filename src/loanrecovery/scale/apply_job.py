"""``apply --engine dask``: a fitted bundle applied bucket by bucket.

Part ``i`` of ``loans.parquet/``, ``payments.parquet/`` and ``collections.parquet/`` hold the
same accounts (hashed ``Loan_ID`` buckets, :mod:`loanrecovery.buckets`), so each task reads
its three parts, validates them as one book (:func:`~loanrecovery.contract.book.read_book`),
and writes for its accounts:

* ``scored.parquet/<part>.parquet``: ``scored_loans.csv``'s columns (segment, PD, strategy,
  its rule, the loan's columns, status, 3/6/12-month PDs, reasons) less the book-wide
  ``Priority_Rank`` and ``On_Watchlist``; the strategy is the policy's (no plan);
* ``early_warning.parquet/<part>.parquet``: the early-warning model's answer for the
  performing loans of the panel's latest month (``P3``, ``P6``, ``P12``, expected months to
  default, segment), features built from the bucket's own panel (no shuffle);
* ``rejects.parquet/<part>.parquet``: every rejected row of the three tables (``Table``
  names which).

The book-wide steps of single-process ``apply`` are not run here: the alert flags and
warning-sign reasons of the watchlist (an alert budget is a share of the whole book) and
the recovery plan (an optimisation under one budget and capacities).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from loanrecovery.actions import NO_ACTION
from loanrecovery.bundle.account import CLOSED_RULE
from loanrecovery.bundle.accounts import build_accounts
from loanrecovery.bundle.files import load_bundle
from loanrecovery.bundle.results import BookResult
from loanrecovery.contract.book import TABLES, find_book_files, read_book
from loanrecovery.exceptions import DataFileError
from loanrecovery.io import parquet_parts
from loanrecovery.scale.jobs import (
    RECORDS_DIR,
    JobReport,
    cached_load,
    input_identity,
    prepare_job,
    run_partitions,
    text_columns,
    write_json_atomic,
    write_parquet_atomic,
)
from loanrecovery.strategy import assign_strategies, explain_strategies

__all__ = ["ScaleApplyResult", "apply_partitioned", "apply_partition", "APPLY_OUTPUTS"]

logger = logging.getLogger(__name__)

#: The output folders of a partitioned ``apply``.
APPLY_OUTPUTS = ["scored.parquet", "early_warning.parquet", "rejects.parquet"]
#: The early-warning columns written per partition (the watchlist less its book-wide
#: alert flag, rank and reasons).
EARLY_WARNING_COLUMNS = [
    "Loan_ID",
    "Borrower_ID",
    "Month",
    "Days_Past_Due",
    "P3",
    "P6",
    "P12",
    "Expected_Months_To_Default",
    "Segment",
]


#: Columns of ``scored_loans.csv`` that rank or flag accounts across the whole book (the
#: priority rank, the watchlist alert), left out of the per-partition output.
BOOK_WIDE_COLUMNS = ["Priority_Rank", "On_Watchlist"]


@dataclass
class ScaleApplyResult:
    """What a partitioned ``apply`` did: per-table counts and the partitions written."""

    report: JobReport
    counts: dict[str, dict[str, int]]
    early_warning_months: list[int]
    out: Path


def _load(path: Path) -> Any:
    return load_bundle(path)


def _rejects(book: Any) -> pd.DataFrame:
    parts = [
        frame.assign(Table=name)
        for name, frame in book.rejects.items()
        if frame is not None and len(frame)
    ]
    if not parts:
        return pd.DataFrame(columns=["Table", "Loan_ID", "Row", "Column", "Value", "Reason"])
    out = pd.concat(parts, ignore_index=True)
    return out[["Table", *[c for c in out.columns if c != "Table"]]]


def apply_partition(
    name: str,
    payload: bytes,
    *,
    folders: dict[str, str],
    out: str,
    reasons: bool,
    alert_min_probability: float | None,
) -> dict[str, Any]:
    """Apply the bundle to one bucket (runs on a worker): outputs, rejects, record."""
    bundle = cached_load(payload, _load, ".bundle")
    paths = {t: Path(folder) / f"{name}.parquet" for t, folder in folders.items()}
    book = read_book(
        paths["loans"], payments=paths.get("payments"), collections=paths.get("collections")
    )
    target = Path(out)
    rejects_path = target / "rejects.parquet" / f"{name}.parquet"
    write_parquet_atomic(text_columns(_rejects(book)), rejects_path)
    record: dict[str, Any] = {
        "partition": name,
        "counts": book.counts(),
        "early_warning_month": None,
    }
    if len(book.loans):
        scored = bundle.risk.apply(book.loans, reasons=reasons)
        dpd = book.loans["Days_Past_Due"].to_numpy(dtype=float)
        policy = bundle.config.policy
        strategies = assign_strategies(policy, scored.scores, scored.segments, dpd)
        rules = explain_strategies(policy, scored.scores, scored.segments, dpd)
        strategies[scored.closed] = NO_ACTION
        rules[scored.closed] = CLOSED_RULE
        watch = None
        if bundle.watchlist is not None and book.payments is not None and len(book.payments):
            by_loan = pd.Series(scored.segments, index=book.loans["Loan_ID"].to_numpy())
            limit = (
                bundle.config.limits.alert_min_probability
                if alert_min_probability is None
                else alert_min_probability
            )
            watch = bundle.watchlist.apply(
                book.payments, book.loans, segments=by_loan, min_probability=limit
            )
            # The alerts are a share of the whole book: not decided per partition.
            watch = watch.assign(Alert=False) if len(watch) else None
        accounts = build_accounts(book, scored, strategies, rules, bundle.config, watchlist=watch)
        table = BookResult(
            book=book, risk=scored, strategies=strategies, strategy_rules=rules, accounts=accounts
        ).scored.drop(columns=BOOK_WIDE_COLUMNS, errors="ignore")
        write_parquet_atomic(text_columns(table), target / "scored.parquet" / f"{name}.parquet")
        if watch is not None:
            record["early_warning_month"] = int(watch["Month"].max())
            write_parquet_atomic(
                text_columns(watch[EARLY_WARNING_COLUMNS]),
                target / "early_warning.parquet" / f"{name}.parquet",
            )
    write_json_atomic(record, target / RECORDS_DIR / f"{name}.json")
    return record


def _folders(data: Path) -> dict[str, Path]:
    """The Parquet folders of a book: ``loans.parquet/`` and, when beside it,
    ``payments.parquet/`` and ``collections.parquet/``."""
    files = find_book_files(data)
    folders = {t: getattr(files, t) for t in TABLES if getattr(files, t) is not None}
    for table, path in folders.items():
        if not path.is_dir():
            raise DataFileError(
                path,
                f"--engine dask reads a book of Parquet folders ({table}.parquet/part-*.parquet, "
                "as `simulate --format parquet` writes); this is a file",
            )
    return folders


def apply_partitioned(
    client: Any,
    data: Path,
    bundle_path: Path,
    out: Path,
    *,
    reasons: bool = True,
    alert_min_probability: float | None = None,
    on_done: Callable[[str, dict[str, Any]], None] | None = None,
) -> ScaleApplyResult:
    """Apply a bundle to a bucketed Parquet book, one task per bucket, on ``client``'s cluster.

    Parameters
    ----------
    client : distributed.Client
    data : Path
        The book's folder (``loans.parquet/`` and, optionally, ``payments.parquet/`` and
        ``collections.parquet/`` with the same part names) or its ``loans.parquet`` folder.
    bundle_path : Path
        A bundle written by ``fit``.
    out : Path
        Output folder (``scored.parquet/``, ``early_warning.parquet/``,
        ``rejects.parquet/``, ``_partitions/``, ``apply_scale.json``).
    reasons : bool, default True
    alert_min_probability : float, optional
    on_done : callable, optional

    Returns
    -------
    ScaleApplyResult
    """
    folders = _folders(data)
    parts = {t: parquet_parts(f) for t, f in folders.items()}
    names = [p.stem for p in parts["loans"]]
    for table, found in parts.items():
        if [p.stem for p in found] != names:
            raise DataFileError(
                folders[table],
                f"its part files ({len(found)}) are not those of {folders['loans']} "
                f"({len(names)}): each table must be bucketed the same way",
            )
    load_bundle(bundle_path)  # checks the file before any task is sent
    payload = bundle_path.read_bytes()
    identity = {
        "command": "apply",
        "bundle": hashlib.sha256(payload).hexdigest(),
        "inputs": input_identity([p for found in parts.values() for p in found]),
        "reasons": reasons,
        "alert_min_probability": alert_min_probability,
    }
    prepare_job(out, identity, APPLY_OUTPUTS)
    shared = client.scatter(payload, broadcast=True)
    report = run_partitions(
        client,
        apply_partition,
        names,
        out,
        shared,
        {
            "folders": {t: str(f) for t, f in folders.items()},
            "out": str(out),
            "reasons": reasons,
            "alert_min_probability": alert_min_probability,
        },
        on_done=on_done,
    )
    counts: dict[str, dict[str, int]] = {}
    for record in report.records.values():
        for table, numbers in record["counts"].items():
            total = counts.setdefault(table, {"in": 0, "accepted": 0, "rejected": 0})
            for key in total:
                total[key] += int(numbers[key])
    for table, total in counts.items():
        if total["accepted"] + total["rejected"] != total["in"]:
            raise AssertionError(f"{table}: {total} (accepted + rejected != in)")
    months = sorted(
        {
            int(r["early_warning_month"])
            for r in report.records.values()
            if r.get("early_warning_month") is not None
        }
    )
    write_json_atomic(
        {
            "partitions": len(names),
            "resumed": len(report.resumed),
            "tables": counts,
            "early_warning_months": months,
        },
        out / "apply_scale.json",
    )
    return ScaleApplyResult(report=report, counts=counts, early_warning_months=months, out=out)
