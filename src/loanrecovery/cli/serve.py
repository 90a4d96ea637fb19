"""``loanrecovery serve``: run the recovery service (HTTP API under /api/v1)."""

from __future__ import annotations

import os
from pathlib import Path

import typer
import uvicorn

from loanrecovery.cli._app import app, console, handle_errors
from loanrecovery.cli._service_options import DB_OPTION, settings_for
from loanrecovery.service.app import create_app
from loanrecovery.service.db import redact
from loanrecovery.service.settings import Settings


@app.command("serve")
@handle_errors
def serve(
    db: str | None = DB_OPTION,
    bundle: Path | None = typer.Option(
        None, "--bundle", help="A fitted bundle file; payments re-score loans with it."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    sweep_seconds: float | None = typer.Option(
        None, "--sweep-seconds", min=0, help="Broken-promise sweep period (0: off)."
    ),
    bundle_check_seconds: float | None = typer.Option(
        None,
        "--bundle-check-seconds",
        min=0,
        help="How often to look for the bundle of a newer `refresh` and load it (0: off).",
    ),
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        max=64,
        help="Server processes sharing the port (one per core; each loads the bundle). "
        "Several processes on one database is safe: each event is applied once.",
    ),
) -> None:
    """Serve the API (OpenAPI at /openapi.json); stop with Ctrl-C."""

    settings = settings_for(
        db, bundle=bundle, sweep_seconds=sweep_seconds, bundle_check_seconds=bundle_check_seconds
    )
    application = create_app(settings)  # checks the settings (database, bundle) here, once
    console.print(
        f"serving {redact(settings.db)} on http://{host}:{port}/api/v1 (docs: /docs)"
        + (f", {workers} processes" if workers > 1 else "")
    )
    if workers == 1:
        uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)
        return
    del application
    # each worker process builds its own app from the same settings, passed in the environment
    os.environ.update(settings_environment(settings))
    uvicorn.run(
        "loanrecovery.service.app:create_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
    )


def settings_environment(settings: Settings) -> dict[str, str]:
    """``LOANRECOVERY_*`` variables that give ``Settings()`` these settings."""
    values = settings.model_dump(exclude_none=True)
    return {f"LOANRECOVERY_{name.upper()}": str(value) for name, value in values.items()}
