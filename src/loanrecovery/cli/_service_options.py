"""Options shared by the service's commands (``db``, ``import``, ``users``, ``serve``,
``refresh``)."""

from __future__ import annotations

import typer

from loanrecovery.service.settings import DEFAULT_DB, Settings

__all__ = ["DB_OPTION", "settings_for"]

DB_OPTION = typer.Option(
    None,
    "--db",
    help=f"Database URL (default: $LOANRECOVERY_DB, else {DEFAULT_DB}); "
    "e.g. postgresql+psycopg://user@127.0.0.1:5432/loanrecovery",
)


def settings_for(db: str | None, **overrides: object) -> Settings:
    """The service settings from the environment, with the command line's values on top."""
    values = {k: v for k, v in {"db": db, **overrides}.items() if v is not None}
    return Settings(**values)  # type: ignore[arg-type]
