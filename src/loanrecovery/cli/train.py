"""``loanrecovery train``: fit the champion on a loan table and write a safe model file."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from loanrecovery.checks import output_file, write_rejects
from loanrecovery.cli import _table_options as opts
from loanrecovery.cli._app import app, console, handle_errors, stage_status
from loanrecovery.cli.evaluate import show_warnings, split_list
from loanrecovery.contract.rejects import DEFAULT_MAX_REJECT_SHARE
from loanrecovery.modeling.model_file import save_model
from loanrecovery.modeling.scoring import dpd_column_of, train_scoring_model
from loanrecovery.modeling.training import model_card, prepare_file
from loanrecovery.recovery.catalogue import load_catalogue
from loanrecovery.recovery.policy import load_validated_policy

__all__ = ["train"]


@app.command("train")
@handle_errors
def train(
    data: opts.DataOption,
    target: opts.TargetOption,
    positive: opts.PositiveOption = None,
    negative: opts.NegativeOption = None,
    model_out: Path = typer.Option(..., "--model-out", help="Model file to write."),
    id_column: opts.IdOption = None,
    drop: opts.DropOption = None,
    folds: int = typer.Option(5, "--folds", min=2, max=20, help="Folds for choosing the champion."),
    policy: Path | None = typer.Option(None, "--policy", help="Strategy policy TOML file."),
    allow_protected: opts.AllowProtectedOption = False,
    delimiter: opts.DelimiterOption = None,
    strict: opts.StrictOption = False,
    decimal: opts.DecimalOption = ".",
    max_reject_share: opts.MaxRejectShareOption = DEFAULT_MAX_REJECT_SHARE,
    accept_rejects: opts.AcceptRejectsOption = False,
    dpd_column: str | None = typer.Option(
        None,
        "--dpd-column",
        help="Column holding the days past due (confirms or overrides the printed guess; "
        "'none': the table has none). A count of late payments is never guessed.",
    ),
) -> None:
    """Train the champion (with calibrator, segmenter and policy) and write the model file."""
    output_file(model_out, "--model-out", [data, policy])
    start = time.perf_counter()
    with show_warnings():
        frame, prepared = prepare_file(
            data,
            target=target,
            positive=positive,
            negative=split_list(negative),
            id_columns=split_list(id_column),
            drop=split_list(drop),
            allow_protected=allow_protected,
            delimiter=delimiter,
            strict=strict,
            decimal=decimal,
        )
    if len(prepared.rejects):
        path = write_rejects(prepared.rejects, model_out.with_name(model_out.stem + "_rejects.csv"))
        console.print(f"{len(prepared.rejects)} rows rejected -> {path}")
    opts.check_table_rejects(
        str(data),
        prepared.n_input_rows,
        prepared.rejects,
        max_share=max_reject_share,
        accept=accept_rejects,
    )
    loaded_policy = load_validated_policy(policy, load_catalogue())
    ids = [c for c, role in prepared.roles.items() if role == "id"]
    dpd = dpd_column_of(prepared, dpd_column)
    console.print(dpd.describe(), markup=False, highlight=False)
    with stage_status("choosing and fitting the champion"):
        model = train_scoring_model(
            prepared,
            input_columns=[str(c) for c in frame.columns],
            id_columns=ids,
            policy=loaded_policy,
            folds=folds,
            dpd=dpd,
        )
    card = model_card(model, prepared, frame, data=data, folds=folds)
    metrics, champion = card["metrics"], model.champion
    full = save_model(model, model_out, card)
    console.print(
        f"champion {champion.champion_}: out-of-fold AUC {metrics['auc']:.4f}, Brier "
        f"{metrics['brier']:.4f}, calibration {champion.calibrator_.method_}; "
        f"{len(model.features)} features; {time.perf_counter() - start:.1f} s"
    )
    console.print(f"model written to {model_out} (sha256 {full['model_sha256'][:16]}...)")
