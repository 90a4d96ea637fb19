"""``loanrecovery run``: fit every stage on a book, apply it, and write the outputs and report."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from loanrecovery.bundle import save_bundle
from loanrecovery.checks import output_dir
from loanrecovery.cli import _book_options as opts
from loanrecovery.cli._app import app, console, handle_errors
from loanrecovery.contract.book import Book
from loanrecovery.exceptions import NoValidRowsError
from loanrecovery.pipeline import PipelineResult, run_pipeline
from loanrecovery.report.files import write_outputs

__all__ = ["run"]


def require_loans(book: Book, out: Path) -> None:
    """Stop with the loan rejects written when no loan passed the contract."""
    if len(book.loans) == 0:
        out.mkdir(parents=True, exist_ok=True)
        book.rejects["loans"].to_csv(out / "rejects.csv", index=False)
        raise NoValidRowsError(book.source, book.rejects["loans"])


@app.command()
@handle_errors
def run(
    data: opts.DataOption = None,
    mapping: opts.MappingOption = None,
    policy: opts.PolicyOption = None,
    out: Path = typer.Option(Path("out"), "--out", help="Output folder."),
    delimiter: opts.DelimiterOption = None,
    payments: opts.PaymentsOption = None,
    collections: opts.CollectionsOption = None,
    seed: opts.SeedOption = None,
    early_warning_model: opts.EarlyWarningModelOption = None,
    config: opts.ConfigOption = None,
    budget: opts.BudgetOption = None,
    capacity: opts.CapacityOption = None,
    alert_budget: opts.AlertBudgetOption = None,
    bundle: Path | None = typer.Option(
        None, "--bundle", help="Also save the fitted bundle to this file (for `apply`)."
    ),
) -> None:
    """Score loans: segments, default risk, a recovery strategy each, insights and a report."""
    output_dir(out, "--out", [data, payments, collections])
    settings = opts.config_from_options(
        config,
        policy=policy,
        budget=budget,
        capacity=capacity,
        alert_budget=alert_budget,
        seed=seed,
        early_warning_model=early_warning_model,
    )
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("reading data", total=None)
        book = opts.book_from_options(
            data, mapping=mapping, delimiter=delimiter, payments=payments, collections=collections
        )
        require_loans(book, out)
        result = run_pipeline(
            book, settings, progress=lambda name: progress.update(task, description=name)
        )
        progress.update(task, description="writing outputs")
        paths = write_outputs(result, out)
        if bundle is not None:
            paths["bundle"] = save_bundle(result.bundle, bundle)
    _summary(result, paths)


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
    for name, count in metrics["strategies"]["counts"].items():
        table.add_row(f"strategy {name}", f"{count:,}")
    console.print(table)
    for name, path in paths.items():
        console.print(f"{name:>8}: {path}")
    console.print(f"Report: [bold]{paths['report']}[/bold]")
