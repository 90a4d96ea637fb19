"""``loanrecovery train``: fit the champion on a loan table and write a safe model file."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from loanrecovery.checks import output_file, write_rejects
from loanrecovery.cli import _table_options as opts
from loanrecovery.cli._app import app, console, handle_errors
from loanrecovery.cli.evaluate import prepare_from_file
from loanrecovery.modeling.metrics import cross_fitted_flags, pd_metrics
from loanrecovery.modeling.model_file import file_fingerprint, save_model
from loanrecovery.modeling.scoring import train_scoring_model
from loanrecovery.modeling.validation import stratified_splits

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
) -> None:
    """Train the champion (with calibrator, segmenter and policy) and write the model file."""
    from loanrecovery.recovery.catalogue import load_catalogue
    from loanrecovery.recovery.policy import load_validated_policy

    output_file(model_out, "--model-out", [data, policy])
    start = time.perf_counter()
    frame, prepared = prepare_from_file(
        data,
        target=target,
        positive=positive,
        negative=negative,
        id_column=id_column,
        drop=drop,
        allow_protected=allow_protected,
        delimiter=delimiter,
        strict=strict,
    )
    if len(prepared.rejects):
        path = write_rejects(prepared.rejects, model_out.with_name(model_out.stem + "_rejects.csv"))
        console.print(f"{len(prepared.rejects)} rows rejected -> {path}")
    loaded_policy = load_validated_policy(policy, load_catalogue())
    ids = [c for c, role in prepared.roles.items() if role == "id"]
    model = train_scoring_model(
        prepared,
        input_columns=[str(c) for c in frame.columns],
        id_columns=ids,
        policy=loaded_policy,
        folds=folds,
    )
    champion = model.champion
    # The champion's own folds (same seed): no loan is flagged by a cut-off chosen on it.
    splits = stratified_splits(prepared.y, folds, champion.random_state)
    flags = cross_fitted_flags(prepared.y, champion.oof_pd_, splits.pairs)
    metrics = pd_metrics(prepared.y, champion.oof_pd_, flags=flags)
    card = {
        "data": file_fingerprint(data) | {"rows": int(len(frame)), "columns": int(frame.shape[1])},
        "target": {
            "column": prepared.target.column,
            "positive": prepared.target.positive,
            "negative": prepared.target.negative,
            "rows_used": int(len(prepared.y)),
            "rows_excluded": int(prepared.n_excluded),
            "positive_rate": float(prepared.y.mean()),
        },
        "features": {c: model.roles[c] for c in model.features},
        "excluded_columns": prepared.excluded,
        "leaks": prepared.leaks,
        "champion": champion.champion_,
        "weights": champion.weights_,
        "calibration": champion.calibrator_.method_,
        "candidates_auc": champion.cv_auc_,
        "metrics": metrics | {"validation": f"{folds}-fold out-of-fold, calibration cross-fitted"},
        "segment_features": model.segment_features,
        "days_past_due_column": model.dpd_column,
        "policy": getattr(loaded_policy, "name", None),
        "score_meaning": "reasons are contributions to the champion's log-odds score before "
        "calibration; they add up, with the expected value, to that score",
    }
    full = save_model(model, model_out, card)
    console.print(
        f"champion {champion.champion_}: out-of-fold AUC {metrics['auc']:.4f}, Brier "
        f"{metrics['brier']:.4f}, calibration {champion.calibrator_.method_}; "
        f"{len(model.features)} features; {time.perf_counter() - start:.1f} s"
    )
    console.print(f"model written to {model_out} (sha256 {full['model_sha256'][:16]}...)")
