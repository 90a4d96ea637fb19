"""``loanrecovery apply``: score, warn and plan a book with a fitted bundle, without refitting."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from loanrecovery.bundle import load_bundle
from loanrecovery.checks import output_dir
from loanrecovery.cli import _book_options as opts
from loanrecovery.cli import _scale_options as scale
from loanrecovery.cli._app import app, console, handle_errors, stage_status
from loanrecovery.cli.run import book_inputs, require_loans, say_removed
from loanrecovery.contract.rejects import DEFAULT_MAX_REJECT_SHARE, check_reject_share
from loanrecovery.exceptions import OptionError
from loanrecovery.report.files import check_format, write_applied
from loanrecovery.report.run_folder import RunFolder

__all__ = ["apply"]


@app.command("apply")
@handle_errors
def apply(
    bundle: Path = typer.Option(
        Path("out/fit/book.bundle"),
        "--bundle",
        help="Bundle file written by `fit` (default: fit's default) or `run --bundle`.",
    ),
    data: Path = typer.Option(
        ...,
        "--data",
        help="Loan file or a folder with loans.csv (+ payments.csv, collections.csv).",
    ),
    out: Path = typer.Option(
        Path("out/apply"),
        "--out",
        help="Output folder; it holds this run's files only (an earlier run's are removed).",
    ),
    mapping: opts.MappingOption = None,
    delimiter: opts.DelimiterOption = None,
    decimal: opts.DecimalOption = ".",
    payments: opts.PaymentsOption = None,
    collections: opts.CollectionsOption = None,
    max_reject_share: opts.MaxRejectShareOption = None,
    accept_rejects: opts.AcceptRejectsOption = False,
    alert_min_probability: opts.AlertMinProbabilityOption = None,
    fmt: opts.FormatOption = "csv",
    engine: scale.EngineOption = "local",
    workers: scale.WorkersOption = None,
    scheduler: scale.SchedulerOption = None,
) -> None:
    """Apply a fitted bundle to a book: segments, PDs, reasons, strategies, watchlist, plan."""
    start = time.perf_counter()
    check_format(fmt)
    if scale.check_engine(engine, workers, scheduler):
        given = {
            "--mapping": mapping,
            "--delimiter": delimiter,
            "--payments": payments,
            "--collections": collections,
        }
        for option, value in given.items():
            if value is not None:
                raise OptionError(option, "not with --engine dask (a book of Parquet folders)")
        result = scale.run_apply(
            data,
            bundle,
            out,
            alert_min_probability=alert_min_probability,
            workers=workers,
            scheduler=scheduler,
        )
        if not accept_rejects:
            limit = DEFAULT_MAX_REJECT_SHARE if max_reject_share is None else max_reject_share
            check_reject_share(result.counts, {}, max_share=limit, sources={"loans": str(data)})
        return
    output_dir(out, "--out", [data, payments, collections, bundle])
    fitted = load_bundle(bundle)
    fitted.config = fitted.config.with_overrides(alert_min_probability=alert_min_probability)
    share = fitted.config.limits.max_reject_share if max_reject_share is None else max_reject_share
    inputs = book_inputs(data, payments, collections, mapping=mapping, bundle=bundle)
    with RunFolder(out, "apply", inputs=inputs) as folder, stage_status("reading data") as stage:
        say_removed(folder)
        folder.config = fitted.config.to_dict()
        folder.details["bundle_id"] = fitted.bundle_id
        book = opts.book_from_options(
            data,
            mapping=mapping,
            delimiter=delimiter,
            payments=payments,
            collections=collections,
            decimal=decimal,
        )
        require_loans(book, out, folder=folder, max_share=share, accept=accept_rejects)
        folder.details["tables"] = book.counts()
        stage("applying the bundle")
        result = fitted.apply(book)
        stage("writing outputs")
        paths = folder.add_all(write_applied(result, out, fmt=fmt))
    console.print(
        f"{len(book.loans):,} loans applied with bundle {fitted.bundle_id[:16]}... in "
        f"{time.perf_counter() - start:.1f} s"
    )
    strategy = fitted.manifest.get("strategy") or {}
    if strategy.get("fallback"):
        console.print(strategy.get("note", ""), markup=False, highlight=False)
    for name, path in paths.items():
        console.print(f"{name:>12}: {path}")
