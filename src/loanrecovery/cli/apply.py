"""``loanrecovery apply``: score, warn and plan a book with a fitted bundle, without refitting."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from loanrecovery.bundle import load_bundle
from loanrecovery.cli import _book_options as opts
from loanrecovery.cli._app import app, console, handle_errors
from loanrecovery.cli.run import require_loans
from loanrecovery.report.files import check_format, write_applied

__all__ = ["apply"]


@app.command("apply")
@handle_errors
def apply(
    bundle: Path = typer.Option(..., "--bundle", help="Bundle file written by `fit` or `run`."),
    data: Path = typer.Option(
        ...,
        "--data",
        help="Loan file or a folder with loans.csv (+ payments.csv, collections.csv).",
    ),
    out: Path = typer.Option(Path("out"), "--out", help="Output folder."),
    mapping: opts.MappingOption = None,
    delimiter: opts.DelimiterOption = None,
    payments: opts.PaymentsOption = None,
    collections: opts.CollectionsOption = None,
    alert_min_probability: opts.AlertMinProbabilityOption = None,
    fmt: opts.FormatOption = "csv",
) -> None:
    """Apply a fitted bundle to a book: segments, PDs, reasons, strategies, watchlist, plan."""
    start = time.perf_counter()
    check_format(fmt)
    fitted = load_bundle(bundle)
    fitted.config = fitted.config.with_overrides(alert_min_probability=alert_min_probability)
    book = opts.book_from_options(
        data, mapping=mapping, delimiter=delimiter, payments=payments, collections=collections
    )
    require_loans(book, out)
    result = fitted.apply(book)
    paths = write_applied(result, out, fmt=fmt)
    console.print(
        f"{len(book.loans):,} loans applied with bundle {fitted.bundle_id[:16]}... in "
        f"{time.perf_counter() - start:.1f} s"
    )
    for name, path in paths.items():
        console.print(f"{name:>12}: {path}")
