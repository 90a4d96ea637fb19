"""The output files of a run: scored loans, watchlist, plan, rejects, metrics and the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from loanrecovery.exceptions import OptionError
from loanrecovery.jsonable import to_jsonable
from loanrecovery.report.render import render_report
from loanrecovery.report.results import RunResult

if TYPE_CHECKING:
    from loanrecovery.bundle.results import BookResult
    from loanrecovery.contract.book import Book

__all__ = [
    "write_outputs",
    "write_applied",
    "write_json",
    "write_rejects_of",
    "check_format",
    "FORMATS",
]


def write_json(payload: object, path: Path) -> None:
    """Write JSON that is valid JSON: non-finite numbers must have been turned into null."""
    path.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n", encoding="utf-8")


#: Output formats of ``accounts``: CSV always, Parquet too with ``parquet``.
FORMATS: tuple[str, ...] = ("csv", "parquet")


def check_format(fmt: str) -> None:
    """Refuse an output format other than :data:`FORMATS` (before any work is done)."""
    if fmt not in FORMATS:
        raise OptionError("--format", f"expected one of {', '.join(FORMATS)}, got {fmt!r}")


def write_outputs(result: RunResult, out_dir: Path, *, fmt: str = "csv") -> dict[str, Path]:
    """Write accounts.csv, scored_loans.csv, rejects.csv, metrics.json and report.html into
    ``out_dir`` (and watchlist.csv, plan.csv and the panel's and history's rejects when there
    are any; accounts.parquet too with ``fmt="parquet"``)."""
    paths = _write_tables(result, out_dir, fmt)
    paths["metrics"] = out_dir / "metrics.json"
    paths["report"] = out_dir / "report.html"
    write_json(to_jsonable(result.metrics()), paths["metrics"])
    paths["report"].write_text(render_report(result), encoding="utf-8")
    return paths


def _write_tables(result: RunResult | BookResult, out_dir: Path, fmt: str) -> dict[str, Path]:
    """The tables ``run`` and ``apply`` share: accounts.csv (and .parquet), scored_loans.csv,
    watchlist.csv and plan.csv (when there are any) and the rejects."""
    check_format(fmt)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    files = {"accounts": "accounts", "scored": "scored_loans", "watchlist": "watchlist"}
    tables = result.tables()
    for name, table in tables.items():
        if table is not None:
            paths[name] = out_dir / f"{files.get(name, name)}.csv"
            table.to_csv(paths[name], index=False)
    accounts = tables["accounts"] if fmt == "parquet" else None
    if accounts is not None:
        paths["accounts_parquet"] = out_dir / "accounts.parquet"
        accounts.to_parquet(paths["accounts_parquet"], index=False)
    paths.update(_write_rejects(result.book, out_dir))
    return paths


def write_rejects_of(book: Book, out_dir: Path) -> dict[str, Path]:
    """Write a book's rejects into ``out_dir`` (see :func:`_write_rejects`), e.g. when a
    command stops because too many rows were rejected."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return _write_rejects(book, out_dir)


def _write_rejects(book: Book, out_dir: Path) -> dict[str, Path]:
    """rejects.csv (always) and the panel's and history's rejects (when there are any)."""
    paths = {"rejects": out_dir / "rejects.csv"}
    book.rejects["loans"].to_csv(paths["rejects"], index=False)
    for table, name in (("collections", "collection_rejects"), ("payments", "payment_rejects")):
        rejects = book.rejects.get(table)
        if rejects is not None and len(rejects):
            paths[name] = out_dir / f"{name}.csv"
            rejects.to_csv(paths[name], index=False)
    return paths


def write_applied(result: BookResult, out_dir: Path, *, fmt: str = "csv") -> dict[str, Path]:
    """Write what ``apply`` produced: accounts.csv (and .parquet with ``fmt="parquet"``),
    scored_loans.csv, watchlist.csv, plan.csv, the rejects and ``apply.json`` (row counts,
    the bundle applied)."""
    paths = _write_tables(result, out_dir, fmt)
    paths["summary"] = out_dir / "apply.json"
    write_json(
        to_jsonable({"source": result.book.source, "tables": result.book.counts()}),
        paths["summary"],
    )
    return paths
