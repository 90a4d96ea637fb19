"""``loanrecovery simulate``: write a simulated loan book (four files) to a directory."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from loanrecovery.cli._app import app, console, handle_errors
from loanrecovery.cli.run import say_removed
from loanrecovery.exceptions import OptionError
from loanrecovery.report.run_folder import RunFolder
from loanrecovery.simulate import simulate_portfolio, write_book, write_parquet_book

_STAGES = ("main path", "default probabilities", "history outcomes", "snapshot outcomes")


@app.command("simulate")
@handle_errors
def simulate(
    loans: int = typer.Option(10000, "--loans", min=1, help="Loans in the book."),
    months: int = typer.Option(
        24, "--months", min=1, max=600, help="Observed months (snapshot = last)."
    ),
    seed: int = typer.Option(42, "--seed", min=0, help="Random seed; same seed, same bytes."),
    out: Path = typer.Option(
        Path("out/simulate"),
        "--out",
        help="Folder for the four files; it holds this book only (with run.json).",
    ),
    fmt: str = typer.Option(
        "csv",
        "--format",
        help="csv: four files; parquet: loans/payments/collections as Parquet folders of "
        "hashed Loan_ID buckets, simulated in chunks (bounded memory; no Monte-Carlo truth).",
    ),
    partitions: int | None = typer.Option(
        None,
        "--partitions",
        min=1,
        help="With --format parquet: part files per table (default one per 100,000 loans).",
    ),
    chunk_loans: int = typer.Option(
        100_000,
        "--chunk-loans",
        min=1,
        help="With --format parquet: loans simulated at once (bounds the memory).",
    ),
) -> None:
    """Simulate a loan book: loans.csv, payments.csv, collections.csv and truth.json."""
    if fmt not in ("csv", "parquet"):
        raise OptionError("--format", f"expected csv or parquet, got {fmt!r}")
    with RunFolder(out, "simulate") as folder:
        folder.config = {"loans": loans, "months": months, "seed": seed, "format": fmt}
        say_removed(folder)
        if fmt == "parquet":
            _simulate_parquet(folder, loans, months, seed, partitions, chunk_loans)
        else:
            _simulate(folder, loans, months, seed)


def _simulate_parquet(
    folder: RunFolder, loans: int, months: int, seed: int, partitions: int | None, chunk: int
) -> None:
    with Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} loans"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("simulating in chunks", total=loans)
        paths = write_parquet_book(
            folder.out,
            loans,
            months,
            seed,
            partitions=partitions,
            chunk_loans=chunk,
            progress=lambda done, _total: bar.update(task, completed=done),
        )
    folder.add("truth", paths.pop("truth"))
    folder.details["parquet_folders"] = {name: str(path) for name, path in paths.items()}
    for name, path in paths.items():
        size = sum(p.stat().st_size for p in path.glob("*.parquet"))
        console.print(
            f"  {name}: {path}/ ({len(list(path.glob('*.parquet')))} parts, {size:,} bytes)"
        )


def _simulate(folder: RunFolder, loans: int, months: int, seed: int) -> None:
    out = folder.out
    with Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        tasks = {stage: bar.add_task(stage, total=1.0) for stage in _STAGES}

        def report(stage: str, done: float) -> None:
            if stage in tasks:
                bar.update(tasks[stage], completed=done)

        book = simulate_portfolio(n_loans=loans, n_months=months, seed=seed, progress=report)
        for task in tasks.values():
            bar.update(task, completed=1.0)
    paths = folder.add_all(write_book(book, out))
    console.print(
        f"{len(book.loans)} loans, {len(book.payments)} payments, "
        f"{len(book.collections)} collection actions -> {out}/"
    )
    for name, path in paths.items():
        console.print(f"  {name}: {path.stat().st_size:,} bytes")
