"""``loanrecovery run``: the whole pipeline on a loan file or the built-in book."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from loanrecovery.checks import output_dir, seed_option
from loanrecovery.cli._app import app, console, handle_errors
from loanrecovery.exceptions import NoValidRowsError
from loanrecovery.inputs import builtin_book, load_run_inputs
from loanrecovery.pipeline import run_pipeline, write_outputs
from loanrecovery.recovery.catalogue import load_catalogue
from loanrecovery.recovery.policy import load_validated_policy

__all__ = ["run"]


@app.command()
@handle_errors
def run(
    data: Path | None = typer.Option(
        None,
        "--data",
        help="Loan file (CSV/Parquet) or a folder with loans.csv "
        "(+ payments.csv, collections.csv). Default: the built-in 10,000-loan book.",
    ),
    mapping: Path | None = typer.Option(
        None, "--mapping", help="TOML file mapping your column names onto the canonical ones."
    ),
    policy: Path | None = typer.Option(None, "--policy", help="Strategy policy TOML file."),
    out: Path = typer.Option(Path("out"), "--out", help="Output folder."),
    delimiter: str | None = typer.Option(None, "--delimiter", help="CSV delimiter (default ',')."),
    payments: Path | None = typer.Option(None, "--payments", help="Monthly payment panel."),
    collections: Path | None = typer.Option(None, "--collections", help="Collection history."),
    seed: int = typer.Option(42, "--seed", help="Seed of every random step."),
) -> None:
    """Score loans: segments, default risk, a recovery strategy each, insights and a report."""
    # The same checks as `optimize` (overlapping or gapped thresholds, actions missing from
    # the catalogue), before any stage runs.
    seed_option(seed)
    output_dir(out, "--out", [data, payments, collections])
    strategy_policy = load_validated_policy(policy, load_catalogue())
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("reading data", total=None)
        if data is None:
            progress.update(task, description="simulating the built-in book")
            inputs = builtin_book()
        else:
            inputs = load_run_inputs(
                data,
                mapping=mapping,
                delimiter=delimiter,
                payments=payments,
                collections=collections,
            )
        try:
            result = run_pipeline(
                inputs.loans,
                source=inputs.source,
                policy=strategy_policy,
                collections=inputs.collections,
                payments=inputs.payments,
                random_state=seed,
                progress=lambda name: progress.update(task, description=name),
            )
        except NoValidRowsError as exc:
            out.mkdir(parents=True, exist_ok=True)
            exc.rejects.to_csv(out / "rejects.csv", index=False)  # type: ignore[attr-defined]
            raise
        progress.update(task, description="writing outputs")
        paths = write_outputs(result, out)
    _summary(result, paths)


def _summary(result: object, paths: dict[str, Path]) -> None:
    metrics = result.metrics()  # type: ignore[attr-defined]
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
