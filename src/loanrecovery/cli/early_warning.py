"""``loanrecovery early-warning``: rank performing loans by their risk of 90+ DPD soon."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from loanrecovery.checks import output_dir, output_file
from loanrecovery.cli import _book_options as opts
from loanrecovery.cli._app import app, console, handle_errors, stage_status
from loanrecovery.cli.run import require_loans, say_removed
from loanrecovery.config import Config
from loanrecovery.contract.book import read_book
from loanrecovery.contract.payments import PanelValidation
from loanrecovery.early_warning import run_early_warning
from loanrecovery.early_warning.model_choice import MODEL_CHOICES, ModelChoiceError
from loanrecovery.exceptions import DataFileError
from loanrecovery.jsonable import to_jsonable
from loanrecovery.report.files import write_json
from loanrecovery.report.run_folder import RunFolder

__all__ = ["early_warning"]


@app.command("early-warning")
@handle_errors
def early_warning(
    data: Path = typer.Option(
        ..., "--data", help="Folder with loans.csv and payments.csv (the simulator's layout)."
    ),
    alert_budget: opts.AlertBudgetOption = None,
    alert_min_probability: opts.AlertMinProbabilityOption = None,
    json_path: Path | None = typer.Option(None, "--json", help="Write the metrics JSON here."),
    out: Path = typer.Option(
        Path("out/early-warning"),
        "--out",
        help="Folder for watchlist.csv; it holds this run's files only (with run.json).",
    ),
    seed: opts.SeedOption = None,
    config: opts.ConfigOption = None,
    model: str = typer.Option(
        "gbm",
        "--model",
        help="gbm | sequence | blend | auto: which model the out-of-time figures are of; "
        "auto keeps gradient boosting unless the sequence model or the blend beats it on "
        "validation months by 0.003 AUC at every horizon (sequence, blend and auto compare "
        "all three; they need pip install 'loanrecovery[deep]'). The blend did not clear "
        "that bar in the benchmark (docs/sequences.md), so gbm is the default. The "
        "chosen model also scores the watchlist.",
    ),
) -> None:
    """Flag borrowers 3 to 6 months before they default, from their monthly payments."""
    settings = opts.config_from_options(
        config, alert_budget=alert_budget, alert_min_probability=alert_min_probability, seed=seed
    )
    output_dir(out, "--out")
    if json_path is not None:
        output_file(json_path, "--json", [data / "loans.csv", data / "payments.csv"])
    if not data.is_dir():
        raise DataFileError(data, "expected a folder holding loans.csv and payments.csv")
    if model not in MODEL_CHOICES:
        raise ModelChoiceError(f"--model {model!r} is not one of {', '.join(MODEL_CHOICES)}")
    with RunFolder(out, "early-warning", inputs={"data": data}) as folder:
        folder.config = settings.to_dict()
        say_removed(folder)
        _early_warning(folder, data, settings, model, json_path)


def _early_warning(
    folder: RunFolder, data: Path, settings: Config, model: str, json_path: Path | None
) -> None:
    out = folder.out
    book = read_book(data)
    if book.payments is None:
        raise DataFileError(data / "payments.csv", f"not found; expected payments.csv in {data}")
    require_loans(book, out, folder=folder)
    folder.details["tables"] = book.counts()
    panel = PanelValidation(
        accepted=book.payments,
        rejects=book.rejects["payments"],
        n_rows_in=book.counts()["payments"]["in"],
    )
    with stage_status("fitting the horizon models and the watchlist"):
        result = run_early_warning(
            book.loans,
            panel,
            alert_budget=settings.limits.alert_budget,
            alert_min_probability=settings.limits.alert_min_probability,
            random_state=settings.seed,
            model=model,
        )
    out.mkdir(parents=True, exist_ok=True)
    result.watchlist.to_csv(folder.add("watchlist", out / "watchlist.csv"), index=False)
    if len(result.rejects):
        result.rejects.to_csv(
            folder.add("payment_rejects", out / "payment_rejects.csv"), index=False
        )
    n_loan_rejects = len(book.rejects["loans"])
    if n_loan_rejects:
        book.rejects["loans"].to_csv(
            folder.add("loan_rejects", out / "loan_rejects.csv"), index=False
        )
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        write_json(to_jsonable(result.metrics), folder.add("metrics", json_path))
    _summary(result.metrics, result.details, out, len(result.rejects), n_loan_rejects)


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
    alerts = metrics["alerts"]
    console.print(
        f"{alerts['used']:,} of {alerts['budget']:,} alerts used (3-month probability at least "
        f"{metrics['alert_min_probability']:g})"
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
