"""``loanrecovery score``: PD, band, segment, strategy and reason codes for every loan."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from loanrecovery.checks import output_file, write_rejects
from loanrecovery.cli import _scale_options as scale
from loanrecovery.cli import _table_options as opts
from loanrecovery.cli._app import app, console, handle_errors
from loanrecovery.cli.evaluate import show_warnings
from loanrecovery.contract.rejects import DEFAULT_MAX_REJECT_SHARE
from loanrecovery.exceptions import OptionError
from loanrecovery.modeling.model_file import load_model
from loanrecovery.modeling.scoring import read_loans, write_scores
from loanrecovery.modeling.table import report_value_problems
from loanrecovery.modeling.table_checks import check_rows
from loanrecovery.modeling.training import read_table_with_decimal

__all__ = ["score"]


@app.command("score")
@handle_errors
def score(
    data: Path = typer.Option(
        ..., "--data", help="Loans to score (CSV, Parquet or a Parquet folder)."
    ),
    model: Path = typer.Option(..., "--model", help="Model file written by `train`."),
    out: Path = typer.Option(
        ..., "--out", help="Scored loans (CSV); with --engine dask a folder of Parquet parts."
    ),
    reasons: int = typer.Option(4, "--reasons", min=0, max=20, help="Reason codes per loan."),
    delimiter: opts.DelimiterOption = None,
    strict: opts.StrictOption = False,
    decimal: opts.DecimalOption = ".",
    max_reject_share: opts.MaxRejectShareOption = DEFAULT_MAX_REJECT_SHARE,
    accept_rejects: opts.AcceptRejectsOption = False,
    engine: scale.EngineOption = "local",
    workers: scale.WorkersOption = None,
    scheduler: scale.SchedulerOption = None,
) -> None:
    """Score loans with a trained model; report population drift."""
    if scale.check_engine(engine, workers, scheduler):
        if decimal != "." or delimiter is not None:
            raise OptionError("--engine", "dask reads Parquet: --decimal/--delimiter do not apply")
        result = scale.run_score(
            data, model, out, reasons=reasons, strict=strict, workers=workers, scheduler=scheduler
        )
        if not accept_rejects:
            opts.check_count_rejects(
                str(data), result.rows_in, result.rejected, max_share=max_reject_share
            )
        return
    output_file(out, "--out", [data, model])
    start = time.perf_counter()
    scoring_model, card = load_model(model)
    scoring_model.prepare(reasons=reasons > 0)  # compiles the trees while the loans are read
    with show_warnings():
        frame = (
            read_loans(data, delimiter)
            if decimal == "."
            else read_table_with_decimal(data, delimiter=delimiter, decimal=decimal)
        )
    n_records = len(frame) + len(frame.attrs.get("malformed_rows", []))
    checked = check_rows(frame, scoring_model.numeric_features, strict=strict)
    if checked.n_rejected:
        frame = frame.loc[checked.keep].reset_index(drop=True)
        path = write_rejects(checked.rejects, out.with_name(out.stem + "_rejects.csv"))
        console.print(
            f"{checked.n_rejected} records rejected (header rows, malformed"
            f"{', values that are not numbers' if strict else ''}) -> {path}"
        )
        opts.check_table_rejects(
            str(data),
            n_records,
            checked.rejects,
            max_share=max_reject_share,
            accept=accept_rejects,
        )
    with show_warnings():
        report_value_problems(checked.problems, str(data), strict)
        result = scoring_model.score(frame, n_reasons=reasons, source=str(data))
    write_scores(result.table, out)
    seconds = time.perf_counter() - start
    scale.print_drift(model, result.drift, result.overall_psi)
    console.print(
        f"{len(frame):,} loans scored with {card.get('champion')} in {seconds:.1f} s "
        f"({len(frame) / max(seconds, 1e-9):,.0f} loans/s) -> {out}"
    )
