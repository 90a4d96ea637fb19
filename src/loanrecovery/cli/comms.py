"""``loanrecovery comms schedule|worker``: borrower communications (docs/communications.md)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from loanrecovery.cli._app import app, console, handle_errors
from loanrecovery.cli._service_options import DB_OPTION, settings_for
from loanrecovery.comms.channels import build_channels
from loanrecovery.comms.config import CommsSettings
from loanrecovery.comms.policy import load_profile
from loanrecovery.comms.scheduler import schedule as run_schedule
from loanrecovery.comms.worker import Worker
from loanrecovery.service.db import make_engine, make_sessionmaker, transaction

comms_app = typer.Typer(help="Borrower communications: reminders and the outbox worker.",
                        no_args_is_help=True)  # fmt: skip
app.add_typer(comms_app, name="comms")

_PROFILE = typer.Option(None, "--profile", help="Contact profile: us_reg_f or uk_fca_conc7.")


def _comms(**values: object) -> CommsSettings:
    return CommsSettings(**{k: v for k, v in values.items() if v is not None})  # type: ignore[arg-type]


@comms_app.command("schedule")
@handle_errors
def schedule(db: str | None = DB_OPTION, profile: str | None = _PROFILE) -> None:
    """Queue today's reminders, promise reminders and broken-promise follow-ups, each
    decided by the contact policy (the counts are printed, blocked ones by rule)."""

    settings = _comms(profile=profile)
    engine = make_engine(settings_for(db).db)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            report = run_schedule(session, load_profile(settings.profile), settings)
    finally:
        engine.dispose()
    console.print(json.dumps(report.as_dict(), sort_keys=True))


@comms_app.command("worker")
@handle_errors
def worker(
    db: str | None = DB_OPTION,
    profile: str | None = _PROFILE,
    smtp_host: str | None = typer.Option(None, "--smtp-host", help="SMTP server host."),
    smtp_port: int | None = typer.Option(None, "--smtp-port", min=1, max=65535, help="SMTP port."),
    smtp_lookup_url: str | None = typer.Option(
        None, "--smtp-lookup-url", help="SMTP relay's Message-ID lookup URL with {key}."
    ),
    webhook_url: str | None = typer.Option(None, "--webhook-url", help="SMS/voice provider URL."),
    webhook_lookup_url: str | None = typer.Option(
        None, "--webhook-lookup-url", help="Provider lookup URL with {key}."
    ),
    letters_dir: Path | None = typer.Option(None, "--letters-dir", help="Letter batch folder."),
    batch: int | None = typer.Option(None, "--batch", min=1, help="Messages per claim."),
    senders: int | None = typer.Option(None, "--senders", min=1, help="Sending threads."),
    lease_seconds: float | None = typer.Option(None, "--lease-seconds", help="Claim lease."),
    backoff_seconds: float | None = typer.Option(None, "--backoff-seconds", help="First retry."),
    max_seconds: float | None = typer.Option(None, "--max-seconds", help="Stop after this."),
    idle_exit: float | None = typer.Option(
        None, "--idle-exit", help="Stop when nothing was due for this many seconds."
    ),
) -> None:
    """Deliver due messages: claim, re-check the policy, send with the idempotency key,
    acknowledge; retries with backoff (runs until stopped, or --max-seconds/--idle-exit)."""

    settings = _comms(
        profile=profile, smtp_host=smtp_host, smtp_port=smtp_port,
        smtp_lookup_url=smtp_lookup_url, webhook_url=webhook_url,
        webhook_lookup_url=webhook_lookup_url, letters_dir=letters_dir, batch=batch,
        senders=senders, lease_seconds=lease_seconds, backoff_seconds=backoff_seconds,
    )  # fmt: skip
    engine = make_engine(settings_for(db).db)
    try:
        runner = Worker(make_sessionmaker(engine), load_profile(settings.profile), settings,
                        lambda: build_channels(settings), dialect=engine.dialect.name)  # fmt: skip
        console.print(f"comms worker {runner.worker_id} started")
        total = runner.run(max_seconds=max_seconds, idle_exit=idle_exit, poll=0.2)
    finally:
        engine.dispose()
    console.print(json.dumps(dict(total), sort_keys=True))
