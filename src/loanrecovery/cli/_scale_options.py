"""Options of the commands that can run on a Dask cluster (``score``, ``apply``), and the
runs themselves, declared once so that both spell, explain and check them the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from loanrecovery.cli._app import console
from loanrecovery.exceptions import OptionError
from loanrecovery.modeling.drift import PSI_BANDS_TEXT, psi_band
from loanrecovery.scale import apply_partitioned, connect, require_dask, score_partitioned

__all__ = [
    "EngineOption",
    "WorkersOption",
    "SchedulerOption",
    "check_engine",
    "run_apply",
    "run_score",
]

EngineOption = Annotated[
    str,
    typer.Option(
        "--engine",
        help="local (one process) or dask: partition by partition on a Dask cluster "
        "(--data a Parquet folder, --out a folder; needs pip install 'loanrecovery[scale]'; "
        "docs/scale-out.md).",
    ),
]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=1,
        help="With --engine dask: start a local cluster of this many worker processes (default 2).",
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="With --engine dask: the address of an existing scheduler (tcp://host:8786).",
    ),
]


def check_engine(engine: str, workers: int | None, scheduler: str | None) -> bool:
    """True for ``--engine dask`` (after checking that Dask is installed); refuses
    ``--workers``/``--scheduler`` without it."""
    if engine not in ("local", "dask"):
        raise OptionError("--engine", f"expected local or dask, got {engine!r}")
    if engine == "local":
        for name, value in (("--workers", workers), ("--scheduler", scheduler)):
            if value is not None:
                raise OptionError(name, "only with --engine dask")
        return False
    require_dask()
    return True


def _progress() -> Any:
    done = {"n": 0}

    def on_done(name: str, record: dict[str, Any]) -> None:
        done["n"] += 1
        console.print(f"  {name} written ({done['n']} this run)", highlight=False)

    return on_done


def run_score(
    data: Path,
    model: Path,
    out: Path,
    *,
    reasons: int,
    strict: bool,
    workers: int | None,
    scheduler: str | None,
) -> Any:
    """``score --engine dask``: score, print the drift table and the counts."""
    if out.exists() and not out.is_dir():
        raise OptionError("--out", f"{out} is a file; with --engine dask --out is a folder")
    if not data.is_dir():
        raise OptionError(
            "--data",
            f"{data} is not a folder; --engine dask reads a Parquet folder of part files "
            "(simulate --format parquet writes loans.parquet/)",
        )
    with connect(workers=workers, scheduler=scheduler) as client:
        n_workers = len(client.scheduler_info()["workers"])
        console.print(f"scoring {data} on {n_workers} Dask worker(s) -> {out}/")
        result = score_partitioned(
            client, data, model, out, reasons=reasons, strict=strict, on_done=_progress()
        )
    print_drift(model, result.drift, result.overall_psi)
    seconds = result.report.seconds
    console.print(
        f"{result.rows_in:,} loans in = {result.scored:,} scored + {result.rejected:,} rejected; "
        f"{len(result.report.records)} partitions ({len(result.report.resumed)} resumed) in "
        f"{seconds:.1f} s ({result.scored / max(seconds, 1e-9):,.0f} loans/s) -> {out}/"
    )
    return result


def run_apply(
    data: Path,
    bundle: Path,
    out: Path,
    *,
    alert_min_probability: float | None,
    workers: int | None,
    scheduler: str | None,
) -> Any:
    """``apply --engine dask``: apply the bundle per bucket (with the book-wide steps), print
    the counts, the watchlist's alerts and the plan's figures."""
    if out.exists() and not out.is_dir():
        raise OptionError("--out", f"{out} is a file; expected a folder")
    with connect(workers=workers, scheduler=scheduler) as client:
        n_workers = len(client.scheduler_info()["workers"])
        console.print(f"applying {bundle} to {data} on {n_workers} Dask worker(s) -> {out}/")
        result = apply_partitioned(
            client,
            data,
            bundle,
            out,
            alert_min_probability=alert_min_probability,
            on_done=_progress(),
        )
    for table, counts in result.counts.items():
        console.print(
            f"{table:>12}: {counts['in']:,} in = {counts['accepted']:,} accepted + "
            f"{counts['rejected']:,} rejected",
            highlight=False,
        )
    watch = result.book.get("watchlist") or {}
    if watch.get("listed"):
        console.print(
            f"{'watchlist':>12}: {watch['listed']:,} loans listed at month {watch['month']}, "
            f"{watch['alerts']:,} alerted",
            highlight=False,
        )
    plan = (result.book.get("recovery") or {}).get("optimized")
    if plan:
        console.print(
            f"{'plan':>12}: {plan['accounts']:,} accounts given an action, expected net "
            f"recovery {plan['expected_net_recovery']:,.2f}",
            highlight=False,
        )
    console.print(
        f"{len(result.report.records)} partitions ({len(result.report.resumed)} resumed) in "
        f"{result.report.seconds:.1f} s -> {out}/"
    )
    return result


def print_drift(model: Path, drift: Any, overall_psi: float) -> None:
    """The drift table (PSI per feature, the 15 largest) and the overall PSI, as ``score``
    prints them on one process or on Dask."""
    table = Table(title=f"Population drift (PSI) against the training data of {model.name}")
    table.add_column("feature")
    table.add_column("PSI", justify="right")
    table.add_column("band")
    for row in drift.head(15).itertuples(index=False):
        table.add_row(str(row.feature), f"{row.psi:.4f}", str(row.band))
    console.print(table)
    console.print(f"overall (PD) PSI {overall_psi:.4f}: {psi_band(overall_psi)} ({PSI_BANDS_TEXT})")
