"""``loanrecovery evaluate``: the champion and the original forest on any loan table."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from loanrecovery.checks import output_file, write_rejects
from loanrecovery.cli import _table_options as opts
from loanrecovery.cli._app import app, console, err_console, handle_errors, stage_status
from loanrecovery.contract.rejects import DEFAULT_MAX_REJECT_SHARE
from loanrecovery.exceptions import DataQualityWarning
from loanrecovery.jsonable import to_jsonable
from loanrecovery.modeling.evaluate import METRIC_KEYS, EvaluationResult, evaluate_table
from loanrecovery.modeling.table import PreparedTable
from loanrecovery.modeling.training import prepare_file
from loanrecovery.report.files import write_json

__all__ = ["evaluate", "show_warnings", "split_list"]


@contextmanager
def show_warnings() -> Iterator[None]:
    """Print data-quality warnings raised inside the block as one line each on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        yield
    for item in caught:
        if issubclass(item.category, DataQualityWarning):
            err_console.print(f"warning: {item.message}", markup=False, highlight=False)


def split_list(text: str | None) -> tuple[str, ...]:
    """A comma-separated option as a tuple of its non-empty, stripped parts."""
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _print_summary(result: EvaluationResult, prepared: PreparedTable) -> None:
    target = prepared.target
    console.print(
        f"target {target.column!r}: positive {target.positive!r}, negative {target.negative}; "
        f"{result.n_rows} rows used, {result.n_excluded} excluded "
        f"({target.n_missing} missing, {target.n_other} other values, "
        f"{target.n_not_modelled} already in default or closed); "
        f"positive rate {result.positive_rate:.4f}"
    )
    if result.excluded_columns:
        shown = ", ".join(f"{c} ({r})" for c, r in result.excluded_columns.items())
        console.print(f"columns left out: {shown}")
    console.print(f"validation: {result.validation}")
    console.print(f"champion: {result.champion}; calibration: {result.calibration}")
    table = Table(title="Out-of-sample metrics")
    table.add_column("metric")
    table.add_column("champion", justify="right")
    table.add_column("baseline forest", justify="right")
    for key in METRIC_KEYS:
        table.add_row(key, _fmt(result.metrics[key]), _fmt(result.baseline[key]))
    console.print(table)
    console.print(f"threshold: {result.metrics['threshold_rule']}")
    if result.fairness is not None:
        fair = Table(title="Fairness: champion per protected group (not used as features)")
        for column in result.fairness.columns:
            fair.add_column(str(column))
        for row in result.fairness.itertuples(index=False):
            fair.add_row(*[_fmt(v) if v is not None else "-" for v in row])
        console.print(fair)
    console.print(f"{result.seconds:.1f} s")


def _write_rejects(prepared: PreparedTable, path: Path | None) -> None:
    n = len(prepared.rejects)
    if n and path is not None:
        console.print(f"{n} rows rejected -> {write_rejects(prepared.rejects, path)}")
    elif n:
        console.print(f"{n} rows rejected (header rows, malformed); --rejects FILE lists them")


@app.command("evaluate")
@handle_errors
def evaluate(
    data: opts.DataOption,
    target: opts.TargetOption,
    positive: opts.PositiveOption = None,
    negative: opts.NegativeOption = None,
    id_column: opts.IdOption = None,
    drop: opts.DropOption = None,
    time_col: str | None = typer.Option(
        None, "--time-col", help="Train on earlier rows, test on later ones (out-of-time)."
    ),
    folds: int = typer.Option(5, "--folds", min=2, max=20, help="Cross-validation folds."),
    allow_protected: opts.AllowProtectedOption = False,
    json_out: Path | None = typer.Option(None, "--json", help="Write the metrics as JSON here."),
    delimiter: opts.DelimiterOption = None,
    strict: opts.StrictOption = False,
    decimal: opts.DecimalOption = ".",
    max_reject_share: opts.MaxRejectShareOption = DEFAULT_MAX_REJECT_SHARE,
    accept_rejects: opts.AcceptRejectsOption = False,
    rejects: Path | None = typer.Option(
        None, "--rejects", help="Write rejected rows here (default: next to --json, if given)."
    ),
) -> None:
    """Evaluate the champion against the original forest on any loan table."""
    if json_out is not None:
        output_file(json_out, "--json", [data])
    if rejects is not None:
        output_file(rejects, "--rejects", [data, json_out])
    start = time.perf_counter()
    with show_warnings():
        _, prepared = prepare_file(
            data,
            target=target,
            positive=positive,
            negative=split_list(negative),
            id_columns=split_list(id_column),
            drop=split_list(drop),
            allow_protected=allow_protected,
            time_col=time_col,
            delimiter=delimiter,
            strict=strict,
            decimal=decimal,
        )
    _write_rejects(prepared, rejects or (json_out and json_out.with_suffix(".rejects.csv")))
    opts.check_table_rejects(
        str(data),
        prepared.n_input_rows,
        prepared.rejects,
        max_share=max_reject_share,
        accept=accept_rejects,
    )
    with stage_status("evaluating the champion and the original forest"):
        result = evaluate_table(prepared, folds=folds, time_column=time_col)
    result.seconds = time.perf_counter() - start
    _print_summary(result, prepared)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        write_json(to_jsonable(result.to_json()), json_out)
        console.print(f"metrics written to {json_out}")
