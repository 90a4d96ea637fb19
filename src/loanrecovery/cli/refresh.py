"""``loanrecovery refresh``: the monthly job (age the panel, refit the bundle, re-score and
re-plan every loan, record what changed)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from loanrecovery.cli._app import app, console, handle_errors, stage_status
from loanrecovery.cli._service_options import DB_OPTION, settings_for
from loanrecovery.service.audit import SYSTEM
from loanrecovery.service.db import make_engine, make_sessionmaker, redact
from loanrecovery.service.refresh import RefreshReport, refresh

_LABELS = {
    "months_added": "panel months opened",
    "loans_aged": "loans whose days past due moved",
    "loans_in": "loans in the database",
    "loans_scored": "loans scored",
    "loans_rejected": "loans refused by the contract",
    "scores_stored": "new scores stored",
    "entered_watchlist": "entered the watchlist",
    "left_watchlist": "left the watchlist",
    "action_changed": "recommended action changed",
    "alerts_raised": "alerts raised",
}


def _print(report: RefreshReport) -> None:
    what = "refitted" if report.refitted else "unchanged book: bundle reused"
    console.print(
        f"refresh run {report.run_id}: bundle {report.bundle_id[:12]} ({what}), "
        f"as of month {report.as_of}; {report.bundle_path}"
    )
    table = Table(title="what changed", show_lines=False)
    table.add_column("")
    table.add_column("count", justify="right")
    for key, label in _LABELS.items():
        table.add_row(label, f"{report.counts[key]:,}")
    console.print(table)
    summary = Table(title="before / after")
    summary.add_column("")
    summary.add_column("before", justify="right")
    summary.add_column("after", justify="right")
    summary.add_row("on the watchlist", f"{report.before['on_watchlist']:,}",
                    f"{report.after['on_watchlist']:,}")  # fmt: skip
    actions = sorted(set(report.before["actions"]) | set(report.after["actions"]))
    for action in actions:
        summary.add_row(f"action {action}", f"{report.before['actions'].get(action, 0):,}",
                        f"{report.after['actions'].get(action, 0):,}")  # fmt: skip
    console.print(summary)
    console.print("seconds: " + ", ".join(f"{k} {v}" for k, v in report.seconds.items()))
    if not report.counts["scores_stored"]:
        console.print("nothing changed since the last refresh")


@app.command("refresh")
@handle_errors
def refresh_command(
    db: str | None = DB_OPTION,
    bundle_out: Path = typer.Option(
        Path("out/refresh/book.bundle"),
        "--bundle-out",
        help="Where to write the refitted bundle (kept, and reused, when it was fitted on "
        "this very book).",
    ),  # fmt: skip
) -> None:
    """The monthly job: age the panel, refit the bundle on the stored book, re-score and
    re-plan every loan, record and audit what changed; running servers load the new bundle."""

    settings = settings_for(db)
    engine = make_engine(settings.db)
    try:
        with stage_status("refresh") as stage:
            report = refresh(
                make_sessionmaker(engine), bundle_out=bundle_out, actor=SYSTEM,
                capacity=settings.collector_capacity, source=f"database {redact(settings.db)}",
                progress=stage,
            )  # fmt: skip
    finally:
        engine.dispose()
    _print(report)
