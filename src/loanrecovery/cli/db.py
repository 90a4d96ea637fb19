"""``loanrecovery db upgrade``: create or migrate the service's database."""

from __future__ import annotations

import typer

from loanrecovery.cli._app import app, console, handle_errors
from loanrecovery.cli._service_options import DB_OPTION, settings_for
from loanrecovery.service.db import make_engine, redact
from loanrecovery.service.db import upgrade as run_upgrade

db_app = typer.Typer(help="The service's database.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
@handle_errors
def upgrade(db: str | None = DB_OPTION) -> None:
    """Create the tables, or bring them to the newest migration (safe to run twice)."""

    settings = settings_for(db)
    engine = make_engine(settings.db)
    try:
        revision = run_upgrade(engine)
    finally:
        engine.dispose()
    console.print(f"{redact(settings.db)}: at revision {revision}")
