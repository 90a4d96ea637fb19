"""``apply --engine dask``: a fitted bundle applied bucket by bucket, with the book-wide steps.

Part ``i`` of ``loans.parquet/``, ``payments.parquet/`` and ``collections.parquet/`` hold the
same accounts (hashed ``Loan_ID`` buckets, :mod:`loanrecovery.buckets`), so each task reads
its three parts and validates them as one book (:func:`~loanrecovery.contract.book.read_book`).
The job writes, one part per input partition, what single-process ``apply`` writes:

* ``accounts.parquet/``, ``scored.parquet/``, ``watchlist.parquet/``, ``plan.parquet/``: the
  rows of ``accounts.csv``, ``scored_loans.csv``, ``watchlist.csv`` and ``plan.csv`` (each
  part sorted as the file is; the order over the book is by ``Priority_Rank``, or the
  watchlist's ``Rank``);
* ``rejects.parquet/``: every rejected row of the three tables (``Table`` names which).

The book-wide steps (the watchlist's alerts, rank and reason band, whose alert budget is a
share of the whole book; the recovery plan, one optimisation under one budget and the
capacities; the priority rank and the turn of contact hours) run once at the driver with
the same functions as single-process ``apply``, on small columns the partitions wrote
(:mod:`loanrecovery.scale.apply_book`), between three passes over the partitions
(:mod:`loanrecovery.scale.apply_parts`). Every pass and driver step is recorded, so a rerun
resumes where the job stopped.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loanrecovery.bundle.files import load_bundle
from loanrecovery.contract.book import TABLES, find_book_files
from loanrecovery.exceptions import DataFileError
from loanrecovery.io import parquet_parts
from loanrecovery.scale import apply_book
from loanrecovery.scale.apply_parts import (
    BOOK_DIR,
    VIEWS,
    answer_partition,
    finish_partition,
    prepare_partition,
)
from loanrecovery.scale.jobs import (
    JobReport,
    input_identity,
    prepare_job,
    run_partitions,
    write_json_atomic,
)

__all__ = ["ScaleApplyResult", "apply_partitioned", "APPLY_OUTPUTS"]

logger = logging.getLogger(__name__)

#: The output folders of a partitioned ``apply``.
APPLY_OUTPUTS = [
    "accounts.parquet",
    *(f"{view}.parquet" for view in VIEWS),
    "rejects.parquet",
]
#: Working folders of the passes removed once the job is done (their records and the
#: driver's markers stay, so that a rerun finds the job done).
_BULKY: tuple[str, ...] = (
    "listed",
    "cases",
    "case_features",
    "alerts",
    "plan",
    "keys",
    "ranks",
    "contacts",
    "windows",
    "answers",
    "views",
)
#: Version of the job's steps, part of its identity (a folder written by another version
#: is not resumed).
_STEPS = "book-wide/1"


@dataclass
class ScaleApplyResult:
    """What a partitioned ``apply`` did: per-table counts, the partitions written, and the
    book-wide steps' summary (watchlist alerts, the recovery plan's figures)."""

    report: JobReport
    counts: dict[str, dict[str, int]]
    early_warning_months: list[int]
    out: Path
    book: dict[str, Any] = field(default_factory=dict)


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
        Output folder (``accounts.parquet/``, ``scored.parquet/``, ``watchlist.parquet/``,
        ``plan.parquet/``, ``rejects.parquet/``, ``_partitions/``, ``_book/`` (the
        book-wide steps' records), ``apply_scale.json``).
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
    bundle = load_bundle(bundle_path)  # checks the file before any task is sent
    payload = bundle_path.read_bytes()
    identity = {
        "command": "apply",
        "bundle": hashlib.sha256(payload).hexdigest(),
        "inputs": input_identity([p for found in parts.values() for p in found]),
        "reasons": reasons,
        "alert_min_probability": alert_min_probability,
        "steps": _STEPS,
    }
    prepare_job(out, identity, [*APPLY_OUTPUTS, BOOK_DIR, "early_warning.parquet"])
    shared = client.scatter(payload, broadcast=True)
    common = {"folders": {t: str(f) for t, f in folders.items()}, "out": str(out)}
    report = run_partitions(
        client,
        prepare_partition,
        names,
        out,
        shared,
        {**common, "alert_min_probability": alert_min_probability},
        on_done=on_done,
    )
    counts = _counts(report)
    months = sorted(
        {
            int(r["early_warning_month"])
            for r in report.records.values()
            if r.get("early_warning_month") is not None
        }
    )
    decided = apply_book.decide(
        bundle, out, names, report.records, alert_min_probability=alert_min_probability
    )
    answered = run_partitions(
        client,
        answer_partition,
        names,
        out,
        shared,
        {
            **common,
            "reasons": reasons,
            "alert_min_probability": alert_min_probability,
            "end_month": decided["watchlist"]["month"],
        },
        records=f"{BOOK_DIR}/answered",
    )
    ranked = apply_book.rank(bundle, out, names)
    finished = run_partitions(
        client,
        finish_partition,
        names,
        out,
        shared,
        {"out": str(out)},
        records=f"{BOOK_DIR}/finished",
    )
    for folder in _BULKY:
        shutil.rmtree(out / BOOK_DIR / folder, ignore_errors=True)
    report.seconds += answered.seconds + finished.seconds
    book = {**decided, **ranked}
    write_json_atomic(
        {
            "partitions": len(names),
            "resumed": len(report.resumed),
            "tables": counts,
            "early_warning_months": months,
            "accounts": finished.total("accounts"),
            **book,
        },
        out / "apply_scale.json",
    )
    return ScaleApplyResult(
        report=report, counts=counts, early_warning_months=months, out=out, book=book
    )


def _counts(report: JobReport) -> dict[str, dict[str, int]]:
    """Rows in, accepted and rejected per table over the partitions (checked to add up)."""
    counts: dict[str, dict[str, int]] = {}
    for record in report.records.values():
        for table, numbers in record["counts"].items():
            total = counts.setdefault(table, {"in": 0, "accepted": 0, "rejected": 0})
            for key in total:
                total[key] += int(numbers[key])
    for table, total in counts.items():
        if total["accepted"] + total["rejected"] != total["in"]:
            raise AssertionError(f"{table}: {total} (accepted + rejected != in)")
    return counts
