"""Alembic environment: runs online against the engine passed in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from loanrecovery.service.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run the migrations in one transaction on the configured engine."""
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
