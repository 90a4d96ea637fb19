"""The service's settings: one pydantic-settings class, read from ``LOANRECOVERY_*``
environment variables and overridden by command-line options."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "DEFAULT_DB"]

#: The embedded default: a SQLite file in the working directory.
DEFAULT_DB = "sqlite:///loanrecovery.db"


class Settings(BaseSettings):
    """Everything the service can be told.

    Attributes
    ----------
    db : str
        SQLAlchemy URL (``LOANRECOVERY_DB``): ``sqlite:///FILE`` or
        ``postgresql+psycopg://USER@HOST:PORT/DB``.
    bundle : Path, optional
        A fitted bundle file (``loanrecovery.bundle.save_bundle``); without one, payments are
        applied and cases worked, but loans are not re-scored.
    collector_capacity : int
        Open cases a collector can hold unless the user has a capacity of their own.
    batch_limit : int
        Most events accepted by ``POST /payments/batch``.
    sweep_seconds : float
        How often the server checks for broken promises (0: never in the background).
    bundle_check_seconds : float
        How often the server checks whether ``loanrecovery refresh`` stored a new bundle, and
        loads it (0: never; restart ``serve`` to pick it up).
    """

    model_config = SettingsConfigDict(env_prefix="LOANRECOVERY_", frozen=True, extra="ignore")

    db: str = DEFAULT_DB
    bundle: Path | None = None
    collector_capacity: int = Field(default=200, ge=1)
    batch_limit: int = Field(default=10_000, ge=1)
    sweep_seconds: float = Field(default=60.0, ge=0)
    bundle_check_seconds: float = Field(default=30.0, ge=0)
