"""``loanrecovery run``: fit every stage on a book, apply it, and write the outputs and report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from loanrecovery.bundle import save_bundle
from loanrecovery.checks import output_dir, output_file
from loanrecovery.cli import _book_options as opts
from loanrecovery.cli._app import app, console, handle_errors
from loanrecovery.contract.book import Book
from loanrecovery.exceptions import LoanRecoveryError, NoValidRowsError
from loanrecovery.pipeline import PipelineResult, run_pipeline
from loanrecovery.report.files import check_format, write_outputs, write_rejects_of
from loanrecovery.report.run_folder import RunFolder

__all__ = ["run", "require_loans", "book_inputs", "say_removed"]


def require_loans(
    book: Book,
    out: Path,
    *,
    folder: RunFolder | None = None,
    max_share: float = 1.0,
    accept: bool = False,
) -> None:
    """Stop with the rejects written when no loan passed the contract, or when more than
    ``max_share`` of a table's rows was rejected (unless ``accept``)."""
    if len(book.loans) == 0:
        out.mkdir(parents=True, exist_ok=True)
        paths = write_rejects_of(book, out)
        if folder is not None:
            folder.add_all(paths)
        raise NoValidRowsError(book.source, book.rejects["loans"], written=paths["rejects"])
    try:
        opts.check_rejects(book, max_share, accept=accept)
    except LoanRecoveryError:
        out.mkdir(parents=True, exist_ok=True)
        paths = write_rejects_of(book, out)
        if folder is not None:
            folder.add_all(paths)
        raise


def book_inputs(
    data: Path | None, payments: Path | None = None, collections: Path | None = None, **more: Any
) -> dict[str, Any]:
    """The inputs of a book-reading command, for its run record."""
    return {
        "data": data if data is not None else "built-in book",
        "payments": payments,
        "collections": collections,
        **more,
    }


def say_removed(folder: RunFolder) -> None:
    """Tell which files of an earlier run were removed from the output folder."""
    if folder.removed:
        names = ", ".join(p.name for p in folder.removed)
        console.print(f"removed the earlier run's files from {folder.out}: {names}")


@app.command()
@handle_errors
def run(
    data: opts.DataOption = None,
    mapping: opts.MappingOption = None,
    policy: opts.PolicyOption = None,
    out: Path = typer.Option(
        Path("out/run"),
        "--out",
        help="Output folder; it holds this run's files only (an earlier run's are removed).",
    ),
    delimiter: opts.DelimiterOption = None,
    decimal: opts.DecimalOption = ".",
    payments: opts.PaymentsOption = None,
    collections: opts.CollectionsOption = None,
    seed: opts.SeedOption = None,
    early_warning_model: opts.EarlyWarningModelOption = None,
    config: opts.ConfigOption = None,
    budget: opts.BudgetOption = None,
    capacity: opts.CapacityOption = None,
    alert_budget: opts.AlertBudgetOption = None,
    alert_min_probability: opts.AlertMinProbabilityOption = None,
    fmt: opts.FormatOption = "csv",
    bundle: Path | None = typer.Option(
        None, "--bundle", help="Also save the fitted bundle to this file (for `apply`)."
    ),
    max_reject_share: opts.MaxRejectShareOption = None,
    accept_rejects: opts.AcceptRejectsOption = False,
) -> None:
    """Score loans: segments, default risk, a recovery strategy each, insights and a report."""
    output_dir(out, "--out", [data, payments, collections])
    check_format(fmt)
    if bundle is not None:
        output_file(bundle, "--bundle", [data, payments, collections])
    settings = opts.config_from_options(
        config,
        policy=policy,
        budget=budget,
        capacity=capacity,
        alert_budget=alert_budget,
        alert_min_probability=alert_min_probability,
        seed=seed,
        max_reject_share=max_reject_share,
        early_warning_model=early_warning_model,
    )
    inputs = book_inputs(data, payments, collections, mapping=mapping, config=config)
    with RunFolder(out, "run", inputs=inputs) as folder:
        say_removed(folder)
        folder.config = settings.to_dict()
        result, paths = _run(
            folder,
            settings,
            data,
            mapping,
            delimiter,
            decimal,
            payments,
            collections,
            bundle,
            accept_rejects,
            fmt,
        )
    _summary(result, paths)


def _run(
    folder: RunFolder,
    settings: Any,
    data: Path | None,
    mapping: Path | None,
    delimiter: str | None,
    decimal: str,
    payments: Path | None,
    collections: Path | None,
    bundle: Path | None,
    accept_rejects: bool,
    fmt: str,
) -> tuple[PipelineResult, dict[str, Path]]:
    out = folder.out
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("reading data", total=None)
        book = opts.book_from_options(
            data,
            mapping=mapping,
            delimiter=delimiter,
            payments=payments,
            collections=collections,
            decimal=decimal,
        )
        require_loans(
            book,
            out,
            folder=folder,
            max_share=settings.limits.max_reject_share,
            accept=accept_rejects,
        )
        result = run_pipeline(
            book, settings, progress=lambda name: progress.update(task, description=name)
        )
        progress.update(task, description="writing outputs")
        paths = folder.add_all(write_outputs(result, out, fmt=fmt))
        if bundle is not None:
            paths["bundle"] = folder.add("bundle", save_bundle(result.bundle, bundle))
        folder.details["tables"] = book.counts()
        folder.details["bundle_id"] = result.bundle.bundle_id or None
    return result, paths


def _summary(result: PipelineResult, paths: dict[str, Path]) -> None:
    metrics = result.metrics()
    rows = metrics["rows"]
    table = Table(title=f"loanrecovery run — {metrics['source']}", show_header=False)
    table.add_row(
        "rows in / scored / rejected", f"{rows['in']:,} / {rows['scored']:,} / {rows['rejected']:,}"
    )
    auc = metrics["model"].get("roc_auc")
    table.add_row("risk model ROC AUC (out-of-fold)", "–" if auc is None else f"{auc:.3f}")
    for name, share in metrics["segments"]["shares"].items():
        table.add_row(f"segment {name}", f"{share:.1%}")
    accounts = result.accounts
    if accounts is not None:
        for name, count in accounts["Recommended_Action"].value_counts().items():
            table.add_row(f"action {name}", f"{count:,}")
    else:
        for name, count in metrics["strategies"]["counts"].items():
            table.add_row(f"strategy {name}", f"{count:,}")
    alerts = metrics.get("early_warning", {}).get("alerts")
    if alerts:
        table.add_row("alerts used", f"{alerts['used']:,} of {alerts['budget']:,}")
    console.print(table)
    if result.fit_report.strategy_fallback:
        console.print(f"[bold]{result.fit_report.strategy_fallback}[/bold]", highlight=False)
    for name, path in paths.items():
        console.print(f"{name:>8}: {path}")
    console.print(f"Report: [bold]{paths['report']}[/bold]")
