"""``loanrecovery early-warning``: rank performing loans by their risk of 90+ DPD soon."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from loanrecovery.cli._app import app, console, handle_errors
from loanrecovery.contract import validate_loans
from loanrecovery.early_warning import read_panel, run_early_warning
from loanrecovery.early_warning.model_choice import MODEL_CHOICES, ModelChoiceError
from loanrecovery.exceptions import DataFileError
from loanrecovery.io import read_table

__all__ = ["early_warning"]


@app.command("early-warning")
@handle_errors
def early_warning(
    data: Path = typer.Option(
        ..., "--data", help="Folder with loans.csv and payments.csv (the simulator's layout)."
    ),
    alert_budget: float = typer.Option(
        0.10,
        "--alert-budget",
        help="Share of performing accounts the team can work per month (0-1].",
    ),
    json_path: Path | None = typer.Option(None, "--json", help="Write the metrics JSON here."),
    out: Path = typer.Option(Path("out"), "--out", help="Folder for watchlist.csv."),
    seed: int = typer.Option(42, "--seed", help="Seed of every model."),
    model: str = typer.Option(
        "auto",
        "--model",
        help="gbm | sequence | blend | auto: auto keeps gradient boosting unless the sequence "
        "model or the blend beats it on validation months (sequence and blend need "
        "pip install 'loanrecovery[deep]').",
    ),
) -> None:
    """Flag borrowers 3 to 6 months before they default, from their monthly payments."""
    if not data.is_dir():
        raise DataFileError(data, "expected a folder holding loans.csv and payments.csv")
    loans_file = _find(data, "loans")
    payments_file = _find(data, "payments")
    loans = validate_loans(read_table(loans_file, as_text=True), source=str(loans_file))
    panel = read_panel(payments_file, loans.accepted)
    if model not in MODEL_CHOICES:
        raise ModelChoiceError(f"--model {model!r} is not one of {', '.join(MODEL_CHOICES)}")
    result = run_early_warning(
        loans.accepted, panel, alert_budget=alert_budget, random_state=seed, model=model
    )
    out.mkdir(parents=True, exist_ok=True)
    result.watchlist.to_csv(out / "watchlist.csv", index=False)
    if len(result.rejects):
        result.rejects.to_csv(out / "payment_rejects.csv", index=False)
    if loans.n_rejected:
        loans.rejects.to_csv(out / "loan_rejects.csv", index=False)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(result.metrics, indent=2) + "\n", encoding="utf-8")
    _summary(result.metrics, result.details, out, len(result.rejects), loans.n_rejected)


def _find(folder: Path, stem: str) -> Path:
    for suffix in (".csv", ".parquet", ".csv.gz"):
        path = folder / f"{stem}{suffix}"
        if path.exists():
            return path
    raise DataFileError(folder / f"{stem}.csv", f"not found; expected {stem}.csv in {folder}")


def _fmt(value: object) -> str:
    return "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _summary(
    metrics: dict, details: dict, out: Path, n_panel_rejects: int, n_loan_rejects: int
) -> None:
    budget = metrics["alert_budget"]
    table = Table(title=f"Out of time (test months after {details['cutoff']}), budget {budget:.0%}")
    for col in ("horizon", "model", "AUC", "recall", "precision"):
        table.add_column(col)
    for h, m in metrics["horizons"].items():
        rows = [("model", m)] + [
            (name.removeprefix("baseline_"), m[name]) for name in m if name.startswith("baseline")
        ]
        for name, r in rows:
            table.add_row(
                f"{h} months",
                name,
                _fmt(r["auc"]),
                _fmt(r["recall_at_budget"]),
                _fmt(r["precision_at_budget"]),
            )
    console.print(table)
    _choice(metrics["model_choice"])
    lead = metrics["lead_time"]
    console.print(
        f"defaults flagged >= 3 months ahead: {_fmt(lead['share_flagged_3m_before'])}, "
        f">= 6 months ahead: {_fmt(lead['share_flagged_6m_before'])}; "
        f"concordance {_fmt(metrics['concordance'])}; {metrics['seconds']:.1f} s"
    )
    console.print(f"watchlist -> {out / 'watchlist.csv'}")
    if n_panel_rejects:
        console.print(f"{n_panel_rejects} payment rows rejected -> {out / 'payment_rejects.csv'}")
    if n_loan_rejects:
        console.print(f"{n_loan_rejects} loan rows rejected -> {out / 'loan_rejects.csv'}")


def _choice(choice: dict) -> None:
    console.print(f"model: {choice['chosen']} ({choice['reason']})")
    for window in ("validation", "test"):
        block = {k: v for k, v in choice[window].items() if k != "months"}
        if len(block) < 2:
            continue
        table = Table(title=f"Candidates on the {window} months")
        for col in ("horizon", "candidate", "AUC", "recall", "Brier", "ECE"):
            table.add_column(col)
        for name, by_h in block.items():
            for h, r in by_h.items():
                table.add_row(
                    f"{h} months",
                    name,
                    _fmt(r["auc"]),
                    _fmt(r["recall_at_budget"]),
                    _fmt(r["brier"]),
                    _fmt(r["ece"]),
                )
        console.print(table)
