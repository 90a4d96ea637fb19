"""Running the Alembic migrations shipped inside the package."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

__all__ = ["upgrade", "current_revision", "alembic_config", "HEAD"]

logger = logging.getLogger(__name__)

_HERE = Path(__file__).resolve().parent
#: The newest migration.
HEAD = "0006_sqlite_partial_indexes"


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration pointing at the package's migrations, bound to ``engine``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Bring the database to ``revision`` (default: the newest); returns the revision reached."""
    command.upgrade(alembic_config(engine), revision)
    reached = current_revision(engine)
    logger.info("database at revision %s", reached)
    return reached


def current_revision(engine: Engine) -> str | None:
    """The database's Alembic revision, or None when it was never migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
